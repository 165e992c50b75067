/**
 * The echo bench's minimal clients (bench/oap-echo): the pipelined client over the raw-TLS
 * floor and over OAP/1 must carry every body size intact — frames that span TLS records and
 * socket reads included — match replies to requests under pipelining, bind a capability in
 * HELLO, and fail loudly on a wrong one, or their throughput and CPU figures mean nothing.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectMinimalOap } from "../../bench/oap-echo/minimal-oap-client.js";
import { connectRawTls } from "../../bench/oap-echo/raw-tls-client.js";
import { stopChildren } from "../../bench/support/children.js";
import type { EchoTarget } from "../../bench/support/load.js";
import { startRawTlsServer } from "../../bench/support/servers.js";
import { type NodeProcess, startNodeProcess } from "../support/node-process.js";
import { tempDir } from "../support/temp-dir.js";

const SIZES = [0, 1, 64, 4096, 16_384, 16_385, 70_000, 200_000];

/** Every size, several of each in flight at once, each reply checked by the client. */
async function echoAll(target: EchoTarget): Promise<number> {
  const calls = SIZES.flatMap((size) => Array.from({ length: 8 }, () => target.echo(randomBytes(size))));
  await Promise.all(calls);
  return calls.length;
}

describe("echo bench clients", () => {
  const dir = tempDir("bench-clients-");
  let node: NodeProcess;
  let ca: string;
  let cap: Uint8Array;
  let host: string;
  let port: number;

  beforeAll(async () => {
    node = await startNodeProcess(["--auth-mode", "on"], { dataDir: dir.path });
    ca = node.caPem;
    cap = Buffer.from(readFileSync(join(dir.path, "auth", "dev.cap"), "utf8").trim(), "base64url");
    const url = new URL(node.oapUrl.replace(/^oap\+tls:/, "https:"));
    host = url.hostname;
    port = Number(url.port);
  }, 60_000);

  afterAll(async () => {
    await node?.stop();
    await stopChildren();
    dir.remove();
  });

  it("the minimal OAP/1 client echoes every size through a node with capabilities on", async () => {
    const client = await connectMinimalOap(host, port, ca, { cap });
    try {
      expect(await echoAll(client)).toBe(SIZES.length * 8);
    } finally {
      await client.close();
    }
  });

  it("the minimal OAP/1 client fails on the first request when no capability is bound", async () => {
    const client = await connectMinimalOap(host, port, ca);
    try {
      await expect(client.echo(randomBytes(64))).rejects.toThrow(/answered code 401/);
    } finally {
      await client.close();
    }
  });

  it("the minimal OAP/1 client refuses to start when the node does not bind its capability", async () => {
    const forged = Uint8Array.from(cap);
    forged[forged.length - 1] = (forged[forged.length - 1] as number) ^ 0xff;
    await expect(connectMinimalOap(host, port, ca, { cap: forged })).rejects.toThrow(
      /did not bind the capability/,
    );
  });

  it("the raw-TLS client echoes every size through the raw floor server", async () => {
    const certs = join(dir.path, "tls");
    const raw = await startRawTlsServer(
      { certFile: join(certs, "server.pem"), keyFile: join(certs, "server-key.pem") },
      [],
    );
    const client = await connectRawTls(raw.host, raw.port, ca);
    try {
      expect(await echoAll(client)).toBe(SIZES.length * 8);
    } finally {
      await client.close();
    }
  });
});
