import type { Readable } from "node:stream";
import { connect as tlsConnect } from "node:tls";
import { GetObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { NODE_RUNTIME_FLAGS } from "@omnigate/node";
import type { SwiftCluster } from "../../testing/support/swift-cluster.js";
import { spawnChild } from "../support/children.js";
import type { ObjectReader } from "./readers.js";

/** The two readers of the S3 GET bench that do not go through the node. */

/** GetObject of one key, its body read to the end as it arrives. */
export function rawS3Reader(s3: S3Client, bucket: string, key: string): ObjectReader {
  return {
    async read() {
      const started = performance.now();
      let firstByteMs = -1;
      let bytes = 0;
      const reply = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      for await (const chunk of reply.Body as Readable) {
        if (firstByteMs < 0) firstByteMs = performance.now() - started;
        bytes += (chunk as Buffer).byteLength;
      }
      return { bytes, firstByteMs, totalMs: performance.now() - started };
    },
    close: async () => {},
  };
}

/** The bare pipe (s3-tls-pipe-server.ts), on the node's certificate and with the node's heap flags. */
export async function startTlsPipeServer(
  node: { certFile: string; keyFile: string },
  swift: SwiftCluster,
  bucket: string,
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
    nodeFlags: [...NODE_RUNTIME_FLAGS],
    ready(line) {
      return line.startsWith("{") ? (JSON.parse(line) as { listening?: number }).listening : undefined;
    },
  });
  return { pid: child.pid, port: ready };
}

/** One key asked of the pipe on a new TLS connection, its bytes read to the end as they arrive. */
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
