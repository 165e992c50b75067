/**
 * The least a gateway can do, run as a child process by s3-get.ts:
 *   s3-tls-pipe-server.ts --cert <pem> --key <pem> --endpoint <url> --bucket <name>
 *                         --access-key-id <id> --secret-access-key <secret> --region <region>
 * Listens on 127.0.0.1 (ephemeral port) with TLS on the node's certificate, prints
 * `{"listening":<port>}` on stdout, and on each connection reads one line, an object key, sends
 * a GetObject of it with `@aws-sdk/client-s3` and pipes the body into the TLS socket
 * unchanged: no framing, no hashing, no admission. What it costs is the floor of any process
 * that passes an S3 body on over TLS, which is what a read through the node adds to a raw read.
 */
import { readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createServer, type TLSSocket } from "node:tls";
import { parseArgs } from "node:util";
import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";

const { values } = parseArgs({
  options: {
    cert: { type: "string" },
    key: { type: "string" },
    endpoint: { type: "string" },
    bucket: { type: "string" },
    "access-key-id": { type: "string" },
    "secret-access-key": { type: "string" },
    region: { type: "string" },
  },
});
const { cert, key, endpoint, bucket, region } = values;
const accessKeyId = values["access-key-id"];
const secretAccessKey = values["secret-access-key"];
if (!cert || !key || !endpoint || !bucket || !accessKeyId || !secretAccessKey || !region) {
  process.stderr.write(
    "usage: s3-tls-pipe-server.ts --cert <pem> --key <pem> --endpoint <url> --bucket <name> --access-key-id <id> --secret-access-key <secret> --region <region>\n",
  );
  process.exit(2);
}

// The node's own S3 client settings: path-style, no response checksum unless required.
const s3 = new S3Client({
  endpoint,
  region,
  credentials: { accessKeyId, secretAccessKey },
  forcePathStyle: true,
  responseChecksumValidation: "WHEN_REQUIRED",
});

const server = createServer(
  { cert: readFileSync(cert), key: readFileSync(key), minVersion: "TLSv1.3" },
  (socket) => {
    serve(socket).catch((error: unknown) => {
      process.stderr.write(`s3-tls-pipe: ${error instanceof Error ? error.message : String(error)}\n`);
      socket.destroy();
    });
  },
);

async function serve(socket: TLSSocket): Promise<void> {
  const objectKey = await firstLine(socket);
  const reply = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: objectKey }));
  await pipeline(reply.Body as Readable, socket);
}

/** The request: one line, the key. */
function firstLine(socket: TLSSocket): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    const onData = (chunk: Buffer) => {
      text += chunk.toString("utf8");
      const end = text.indexOf("\n");
      if (end < 0) return;
      socket.off("data", onData);
      // Anything after the line is dropped; reading on lets the client's end close the socket.
      socket.resume();
      resolve(text.slice(0, end));
    };
    socket.on("data", onData);
    socket.once("error", reject);
  });
}

server.listen(0, "127.0.0.1", () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ listening: port })}\n`);
});

// Exit through process.exit so --cpu-prof (when the parent asks for it) writes its profile.
for (const signal of ["SIGTERM", "SIGINT"] as const) process.on(signal, () => process.exit(0));
