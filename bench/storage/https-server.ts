/**
 * The baseline: a plain node:https static file server. GET /<name> streams the file from
 * `--dir` with createReadStream (64 KiB reads, pipe backpressure), nothing else. Prints
 * {"listening": port} on stdout when ready.
 */
import { createReadStream, readFileSync, statSync } from "node:fs";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: { cert: { type: "string" }, key: { type: "string" }, dir: { type: "string" } },
});
if (!values.cert || !values.key || !values.dir) throw new Error("--cert, --key and --dir are required");
const dir = values.dir;

const server = createServer(
  { cert: readFileSync(values.cert), key: readFileSync(values.key), minVersion: "TLSv1.3" },
  (req, res) => {
    const name = (req.url ?? "/").slice(1);
    if (!/^[\w.-]+$/.test(name)) {
      res.writeHead(400).end();
      return;
    }
    const path = join(dir, name);
    let size: number;
    try {
      size = statSync(path).size;
    } catch {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": "application/octet-stream", "content-length": size });
    createReadStream(path, { highWaterMark: 64 * 1024 }).pipe(res);
  },
);
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`${JSON.stringify({ listening: (server.address() as AddressInfo).port })}\n`);
});
process.once("SIGTERM", () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
