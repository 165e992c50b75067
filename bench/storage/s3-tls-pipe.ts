import { connect as tlsConnect } from "node:tls";
import { NODE_RUNTIME_FLAGS } from "@omnigate/node";
import type { SwiftCluster } from "../../testing/support/swift-cluster.js";
import { spawnChild } from "../support/children.js";
import type { ObjectReader } from "./readers.js";

/** A read through the pipe that moves no bytes this long fails rather than hangs the bench. */
const IDLE_TIMEOUT_MS = 60_000;

/** Starts the bare pipe (s3-tls-pipe-server.ts) on the node's certificate and with the node's heap flags. */
export async function startTlsPipeServer(
  node: { certFile: string; keyFile: string },
  swift: SwiftCluster,
  bucket: string,
  extraNodeFlags: readonly string[],
): Promise<{ pid: number | undefined; port: number }> {
  const { child, ready } = await spawnChild({
    name: "s3-tls-pipe",
    script: "bench/storage/s3-tls-pipe-server.ts",
    args: [
      ["--cert", node.certFile],
      ["--key", node.keyFile],
      ["--endpoint", swift.endpoint],
      ["--bucket", bucket],
      ["--access-key-id", swift.accessKeyId],
      ["--secret-access-key", swift.secretAccessKey],
      ["--region", swift.region],
    ].flat(),
    nodeFlags: [...NODE_RUNTIME_FLAGS, ...extraNodeFlags],
    ready(line) {
      return line.startsWith("{") ? (JSON.parse(line) as { listening?: number }).listening : undefined;
    },
  });
  return { pid: child.pid, port: ready };
}

/**
 * One key asked of the pipe on a new TLS connection, its bytes read to the end as they arrive.
 * Each read pays a TLS 1.3 handshake (about 1 % of a 64 MiB read's CPU) that the kept-alive
 * raw and OAP readers do not, so its time to first byte is not comparable with theirs.
 */
export function tlsPipeReader(port: number, ca: string, key: string): ObjectReader {
  return {
    read: () =>
      new Promise((resolve, reject) => {
        const started = performance.now();
        let firstByteMs = -1;
        let bytes = 0;
        const socket = tlsConnect({ host: "127.0.0.1", port, ca, servername: "localhost" }, () => {
          socket.write(`${key}\n`);
        });
        socket.setTimeout(IDLE_TIMEOUT_MS, () =>
          socket.destroy(new Error(`s3-tls-pipe: no bytes for ${IDLE_TIMEOUT_MS} ms`)),
        );
        socket.on("data", (chunk: Buffer) => {
          if (firstByteMs < 0) firstByteMs = performance.now() - started;
          bytes += chunk.byteLength;
        });
        socket.once("end", () => {
          socket.end();
          resolve({ bytes, firstByteMs, totalMs: performance.now() - started });
        });
        socket.once("error", reject);
      }),
    close: async () => {},
  };
}
