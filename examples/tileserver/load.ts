// Renders a small tile set (zoom 0..max-zoom) and imports it into Omnigate storage, writing
// the tile index the tileserver reads. Works offline: nothing is downloaded.
import { exitWithError } from "./failure.js";
import { loadTiles } from "./load-tiles.js";
import { connectNode, readOptions } from "./options.js";
import { writeTileIndex } from "./tile-index.js";

const verbose = process.argv.includes("--verbose");
try {
  const options = readOptions(process.argv.slice(2));
  const client = await connectNode(options);
  try {
    const started = performance.now();
    const result = await loadTiles(client, options.maxZoom);
    await writeTileIndex(options.index, result.index);
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `stored ${result.tiles} tiles (${(result.bytes / 1024).toFixed(0)} KiB, ${result.alreadyStored} already there) ` +
        `in ${seconds.toFixed(2)} s; index written to ${options.index}`,
    );
  } finally {
    await client.close();
  }
} catch (error) {
  exitWithError("tileserver-load", error, verbose);
}
