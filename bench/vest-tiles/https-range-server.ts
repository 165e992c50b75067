import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";

/**
 * The baseline: the same archive bytes served by node:https with HTTP Range support
 * (`bytes=a-b`, `bytes=a-`, `bytes=-n`), as a static file host for PMTiles would serve them.
 */
export async function startRangeServer(
  bytes: Uint8Array,
  tls: { cert: string; key: string },
): Promise<{ url: string; close(): Promise<void> }> {
  const body = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const server: Server = createServer({ cert: tls.cert, key: tls.key, minVersion: "TLSv1.3" }, (req, res) => {
    const match = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? "");
    if (!match) {
      res.writeHead(200, { "content-length": body.length, "accept-ranges": "bytes" }).end(body);
      return;
    }
    const [, a = "", b = ""] = match;
    let start = a === "" ? body.length - Number(b) : Number(a);
    let end = a === "" || b === "" ? body.length - 1 : Math.min(Number(b), body.length - 1);
    start = Math.max(0, start);
    if (start >= body.length || end < start) {
      res.writeHead(416, { "content-range": `bytes */${body.length}` }).end();
      return;
    }
    end = Math.max(end, start);
    res
      .writeHead(206, {
        "content-length": end - start + 1,
        "content-range": `bytes ${start}-${end}/${body.length}`,
        "accept-ranges": "bytes",
      })
      .end(body.subarray(start, end + 1));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}/world.pmtiles`,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
