// The tileserver: an HTTP app that serves map tiles from Omnigate storage over OAP/1.
import { exitWithError } from "./failure.js";
import { connectNode, readOptions } from "./options.js";
import { startTileServer } from "./server.js";
import { readTileIndex } from "./tile-index.js";

const verbose = process.argv.includes("--verbose");
try {
  const options = readOptions(process.argv.slice(2));
  const index = await readTileIndex(options.index).catch((error: unknown) => {
    throw new Error(
      `cannot read the tile index ${options.index}: run npm run example:tileserver-load first (${String(error)})`,
    );
  });
  const client = await connectNode(options);
  const server = await startTileServer({ client, index, host: options.host, port: options.port });
  console.log(`tileserver: ${server.url}/  (${index.size} tiles; tile fetch logs and summaries on stderr)`);

  const stop = async () => {
    await server.close();
    await client.close();
    process.exit(0);
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
} catch (error) {
  exitWithError("tileserver", error, verbose);
}
