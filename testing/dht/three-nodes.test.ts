/**
 * Three real node processes on loopback joined into one DHT network (issue 18): a public object
 * PUT on node A is fetched through by node C (DHT lookup, verified fetch, stored, served), and a
 * provider that serves a corrupted group is caught at that group and dropped, the fetch going on
 * from the other provider. Plus the node-to-node app's refusals (node capabilities) and bounds.
 */
import { randomBytes as randomKey } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { mintToken } from "@omnigate/caps";
import { distanceCompare, idFromHex, idToHex } from "@omnigate/dht";
import { AppProtoId } from "@omnigate/oap";
import { connect, type OapClient, type OapRequestError, type StorageAddress } from "@omnigate/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dhtIdOf } from "../../packages/node/src/dht/index.js";
import { randomBytes } from "../storage/support.js";
import { flipByte } from "../support/flip-byte.js";
import { type NodeProcess, startNodeProcess } from "../support/node-process.js";
import { sampleValue, scrape } from "../support/prometheus-text.js";
import { tempDir } from "../support/temp-dir.js";

const GROUP = 64 * 1024;

interface Member {
  name: string;
  dir: string;
  proc: NodeProcess;
  lines: string[];
  client: OapClient;
  dhtId: Uint8Array;
}

const base = tempDir("omnigate-dht-");
const networkKeyFile = join(base.path, "network.key");
const dirs = { a: join(base.path, "a"), b: join(base.path, "b"), c: join(base.path, "c") };
const caFiles = Object.values(dirs)
  .map((dir) => join(dir, "tls", "ca.pem"))
  .join(",");
let blackHole: Server;
const members: Record<"a" | "b" | "c", Member> = {} as Record<"a" | "b" | "c", Member>;

async function start(name: "a" | "b" | "c", extra: string[]): Promise<Member> {
  const lines: string[] = [];
  const proc = await startNodeProcess(
    [
      "--log-level",
      "info",
      // Tenant capabilities on, as in production: node-to-node calls use node capabilities.
      "--auth-mode",
      "on",
      "--dht-mode",
      "on",
      "--dht-network-key-file",
      networkKeyFile,
      "--dht-ca-files",
      caFiles,
      // Long enough that the first provider is never raced by the second on a loaded machine:
      // the test must see which provider served what.
      "--dht-fetch-hedge-ms",
      "10000",
      "--dht-max-provider-keys",
      "40",
      ...extra,
    ],
    { dataDir: dirs[name], onLine: (line) => lines.push(line) },
  );
  const cap = readFileSync(join(dirs[name], "auth", "dev.cap"), "utf8").trim();
  const client = await connect(proc.oapUrl, { ca: proc.caPem, cap, tenant: 0n, defaultDeadlineMs: 60_000 });
  const nodeId = readFileSync(join(dirs[name], "node_id"), "utf8").trim();
  return { name, dir: dirs[name], proc, lines, client, dhtId: dhtIdOf(nodeId) };
}

/** JSON log lines of a member whose msg includes `text`. */
function logs(member: Member, text: string): Array<Record<string, unknown>> {
  return member.lines
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((entry) => typeof entry.msg === "string" && entry.msg.includes(text));
}

async function until<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  ms = 20_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Provider records `member` holds (its store), from its /metrics. */
async function records(member: Member): Promise<number> {
  return sampleValue(await scrape(member.proc.adminUrl), "dht_provider_store_records") ?? 0;
}

function objectPath(member: Member, addr: StorageAddress): string {
  const hex = addr.slice(3);
  return join(member.dir, "storage", "objects", "public", hex.slice(0, 2), hex.slice(2, 4), hex);
}

beforeAll(async () => {
  writeFileSync(networkKeyFile, `${randomKey(32).toString("base64url")}\n`, { mode: 0o600 });
  // A seed that accepts connections and never answers: joining must not hang on it.
  blackHole = createServer(() => {});
  await new Promise<void>((resolve) => blackHole.listen(0, "127.0.0.1", resolve));
  const silent = `oap+tls://127.0.0.1:${(blackHole.address() as { port: number }).port}`;
  members.a = await start("a", []);
  members.b = await start("b", ["--dht-bootstrap", members.a.proc.oapUrl]);
  members.c = await start("c", ["--dht-bootstrap", `${silent},${members.a.proc.oapUrl}`]);
  await until("b and c to join", () =>
    logs(members.b, "dht bootstrapped").length > 0 && logs(members.c, "dht bootstrapped").length > 0
      ? true
      : undefined,
  );
}, 90_000);

afterAll(async () => {
  for (const member of Object.values(members)) {
    await member.client?.close();
    await member.proc?.stop();
  }
  blackHole?.close();
  base.remove();
});

describe("three nodes, one DHT network", () => {
  it("a public object PUT on A is fetched through by C, every group verified", async () => {
    const data = randomBytes(3 * 1024 * 1024 + 1234);
    const before = await records(members.c);
    const { addr } = await members.a.client.storage.put(data, { public: true });
    // A announces after the PUT: C holds A's record once that is done.
    await until("A's provider record on C", async () =>
      (await records(members.c)) > before ? true : undefined,
    );
    expect(await members.c.client.storage.has(addr)).toBeUndefined();
    const got = await members.c.client.storage.getBytes(addr, { verify: "chunks" });
    expect(got.equals(data)).toBe(true);
    const [lookup] = logs(members.c, "dht lookup for fetch-through");
    const [fetched] = logs(members.c, "fetched through from the network");
    expect(lookup?.providers).toBe(1);
    expect(fetched?.size).toBe(data.byteLength);
    console.log(
      `fetch-through of ${data.byteLength} bytes: lookup ${lookup?.lookup_ms} ms (${lookup?.hops} hops, ${lookup?.rpcs} rpcs), fetch ${fetched?.fetch_ms} ms`,
    );
    // C stored it: it is now local (and C announced itself as a provider).
    expect(await members.c.client.storage.has(addr)).toEqual({ size: data.byteLength, public: true });
    expect((await members.c.client.storage.getBytes(addr)).equals(data)).toBe(true);
  }, 60_000);

  it("a provider serving a corrupted group is caught at that group; the fetch completes from the other", async () => {
    const data = randomBytes(20 * GROUP + 99);
    const before = await records(members.c);
    const { addr } = await members.a.client.storage.put(data, { public: true });
    await members.b.client.storage.put(data, { public: true });
    await until("both records on C", async () =>
      (await records(members.c)) >= before + 2 ? true : undefined,
    );
    // C tries the provider nearest the key first (equal speed on loopback): damage that one.
    const key = idFromHex(addr.slice(3));
    const [first, second] = [members.a, members.b].sort((x, y) => distanceCompare(key, x.dhtId, y.dhtId)) as [
      Member,
      Member,
    ];
    const badGroup = 7;
    flipByte(objectPath(first, addr), badGroup * GROUP + 4242);
    const got = await members.c.client.storage.getBytes(addr, { verify: "chunks" });
    expect(got.equals(data)).toBe(true);
    const dropped = logs(members.c, "failed its proof").filter((entry) => entry.addr === addr);
    expect(dropped).toHaveLength(1);
    expect(dropped[0]?.provider).toBe(first.proc.oapUrl);
    expect(dropped[0]?.group).toBe(badGroup);
    const metrics = await scrape(members.c.proc.adminUrl);
    expect(sampleValue(metrics, "dht_bad_chunks_total")).toBe(1);
    expect(idToHex(second.dhtId)).not.toBe(idToHex(first.dhtId));
  }, 60_000);

  it("an object no node holds is 404 not_found after the lookup", async () => {
    const missing = `b3:${"ab".repeat(32)}` as StorageAddress;
    const error = await members.c.client.storage.getBytes(missing).catch((e: unknown) => e);
    expect((error as OapRequestError).code).toBe(404);
  });

  it("the node-to-node app refuses calls without a node capability, under another key, or for another node id", async () => {
    const a = members.a;
    const raw = await connect(a.proc.oapUrl, { ca: a.proc.caPem });
    try {
      const topic = `node:${idToHex(members.b.dhtId)}`;
      const meta = { op: "find_node", target: "00".repeat(32), topic, from_url: members.b.proc.oapUrl };
      const refusal = (cap?: Uint8Array): Promise<OapRequestError> =>
        raw.request(AppProtoId.DHT, { meta, ...(cap ? { cap } : {}) }).then(
          () => {
            throw new Error("the node-to-node app accepted a call it should refuse");
          },
          (e: unknown) => e as OapRequestError,
        );
      expect((await refusal()).code).toBe(401);
      const otherKey = randomKey(32);
      const foreign = mintToken({
        rootKey: otherKey,
        keyId: "net-00000000",
        tenant: 0n,
        apps: [AppProtoId.DHT],
        topics: topic,
      });
      expect((await refusal(foreign)).code).toBe(401);
      const key = Buffer.from(readFileSync(networkKeyFile, "utf8").trim(), "base64url");
      const keyId = `net-${(await import("node:crypto")).createHash("sha256").update(key).digest("hex").slice(0, 8)}`;
      // A real network token, but minted for C's id: it cannot speak (or announce) as B.
      const asC = mintToken({
        rootKey: key,
        keyId,
        tenant: 0n,
        apps: [AppProtoId.DHT],
        topics: `node:${idToHex(members.c.dhtId)}`,
      });
      const forged = await refusal(asC);
      expect(forged.code).toBe(403);
      expect(forged.reason).toBe("forbidden");
      // A tenant capability of the node is not a node capability either.
      const devCap = readFileSync(join(a.dir, "auth", "dev.cap"), "utf8").trim();
      expect((await refusal(Buffer.from(devCap, "base64url"))).code).toBe(401);
      // The right token for B works, and a flood of provider records stops at the store's bound.
      const asB = mintToken({ rootKey: key, keyId, tenant: 0n, apps: [AppProtoId.DHT], topics: topic });
      const ok = await raw.request(AppProtoId.DHT, { meta, cap: asB });
      expect(Array.isArray(ok.meta.closer)).toBe(true);
      let refused: OapRequestError | undefined;
      for (let i = 0; i < 60 && !refused; i++) {
        const add = {
          op: "add_provider",
          key: randomKey(32).toString("hex"),
          ttl_ms: 60_000,
          topic,
          from_url: members.b.proc.oapUrl,
        };
        refused = await raw.request(AppProtoId.DHT, { meta: add, cap: asB }).then(
          () => undefined,
          (e: unknown) => e as OapRequestError,
        );
      }
      expect(refused?.code).toBe(429);
      expect(refused?.reason).toBe("quota");
      const metrics = await scrape(a.proc.adminUrl);
      expect(sampleValue(metrics, "dht_provider_store_keys")).toBeLessThanOrEqual(40);
      expect(sampleValue(metrics, "dht_refused_total", { reason: "unauthenticated" })).toBeGreaterThanOrEqual(
        2,
      );
      expect(sampleValue(metrics, "dht_refused_total", { reason: "forbidden" })).toBeGreaterThanOrEqual(1);
      // Malformed meta is a clear 400, and the node keeps serving.
      const bad = await raw.request(AppProtoId.DHT, { meta: { ...meta, target: "xyz" }, cap: asB }).then(
        () => {
          throw new Error("malformed meta was accepted");
        },
        (e: unknown) => e as OapRequestError,
      );
      expect(bad.code).toBe(400);
      expect(bad.reason).toBe("bad_meta");
    } finally {
      await raw.close();
    }
  }, 60_000);
});
