/**
 * The raw-TLS baseline server, run as a child process by run.ts:
 *   raw-tls-server.ts --cert <pem> --key <pem>
 * Listens on 127.0.0.1 (ephemeral port), prints `{"listening":<port>}` on stdout, and echoes
 * every `len | id | body` frame back unchanged. It uses the node's own certificate and the
 * same TLS settings as the node's gateway, so the only difference left is the framing work.
 */
import { readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { createServer, type TLSSocket } from "node:tls";
import { parseArgs } from "node:util";
import { RawFrameSplitter } from "./raw-frame.js";

const { values } = parseArgs({
  options: { cert: { type: "string" }, key: { type: "string" } },
});
if (!values.cert || !values.key) {
  process.stderr.write("usage: raw-tls-server.ts --cert <pem> --key <pem>\n");
  process.exit(2);
}

const server = createServer(
  {
    cert: readFileSync(values.cert),
    key: readFileSync(values.key),
    minVersion: "TLSv1.3",
    ALPNProtocols: ["oap-raw-bench"],
  },
  serve,
);

function serve(socket: TLSSocket): void {
  socket.setNoDelay(true);
  const splitter = new RawFrameSplitter();
  const out: Buffer[] = [];
  let outBytes = 0;
  socket.on("data", (chunk: Buffer) => {
    splitter.push(chunk, (frame) => {
      out.push(frame);
      outBytes += frame.byteLength;
    });
    // One write per received chunk: the frames it completed leave as one TLS record batch.
    if (out.length === 0) return;
    socket.write(out.length === 1 ? (out[0] as Buffer) : Buffer.concat(out, outBytes));
    out.length = 0;
    outBytes = 0;
  });
  socket.on("error", () => {
    // A client going away mid-run is not this server's concern; close follows.
  });
}

server.listen(0, "127.0.0.1", () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ listening: port })}\n`);
});

// Exit through process.exit so --cpu-prof (when the parent asks for it) writes its profile.
for (const signal of ["SIGTERM", "SIGINT"] as const) process.on(signal, () => process.exit(0));
