import { open } from "node:fs/promises";
import { AppProtoId } from "@omnigate/oap";
import { addressOf, type StorageAddress } from "@omnigate/sdk";
import { afterEach, describe, expect, it } from "vitest";
import { sampleValue, scrape } from "../support/prometheus-text.js";
import { TestScope } from "../support/scope.js";
import { drain, KiB, MiB, objectPath, randomBytes, randomStream, storageClient } from "./support.js";

const scope = new TestScope();
afterEach(() => scope.close());

describe.each(["fs", "memory"] as const)("storage on the %s engine", (engine) => {
  it.each([0, 1, 64 * KiB - 1, 64 * KiB, 64 * KiB + 1, 10 * MiB])("round-trips %i bytes", async (size) => {
    const node = await scope.node({ storageEngine: engine });
    const client = await storageClient(scope, node);
    const source = randomStream(size, 256 * KiB);
    const put = await client.storage.put(source.chunks, { size });
    expect(put).toEqual({ addr: source.addr(), size, created: true });

    const reader = client.storage.get(put.addr);
    const head = await reader.head();
    expect(head).toMatchObject({ code: 200, size, length: size });
    const got = await drain(reader);
    expect(got).toEqual({ bytes: size, addr: put.addr });
    expect(await client.storage.has(put.addr)).toEqual({ size, public: false });
  });

  it("answers every range form, and 416 for ranges outside the object", async () => {
    const node = await scope.node({ storageEngine: engine });
    const client = await storageClient(scope, node);
    const bytes = randomBytes(300 * KiB);
    const { addr } = await client.storage.put(bytes);
    const cases: Array<[string, number, number]> = [
      ["0-0", 0, 1],
      ["10-99", 10, 100],
      ["100000-", 100000, bytes.length],
      ["-50", bytes.length - 50, bytes.length],
      ["0-", 0, bytes.length],
      ["5-99999999", 5, bytes.length],
      ["-99999999", 0, bytes.length],
      [`${64 * KiB - 1}-${200 * KiB}`, 64 * KiB - 1, 200 * KiB + 1],
    ];
    for (const [range, start, end] of cases) {
      const reader = client.storage.get(addr, { range });
      expect(await reader.head(), range).toMatchObject({
        code: 206,
        size: bytes.length,
        length: end - start,
        range: `${start}-${end - 1}`,
      });
      const chunks: Buffer[] = [];
      for await (const chunk of reader) chunks.push(chunk);
      expect(Buffer.concat(chunks).equals(bytes.subarray(start, end)), range).toBe(true);
    }
    for (const range of [`${bytes.length}-`, `${bytes.length}-${bytes.length + 10}`, "-0"]) {
      await expect(client.storage.getBytes(addr, { range }), range).rejects.toMatchObject({
        code: 416,
        reason: "range_not_satisfiable",
      });
    }
    for (const range of ["abc", "9-3", "-", "1-2-3", " 1-2"]) {
      await expect(client.storage.getBytes(addr, { range }), range).rejects.toMatchObject({
        code: 400,
        reason: "bad_meta",
      });
    }
    const empty = await client.storage.put(new Uint8Array(0));
    await expect(client.storage.getBytes(empty.addr, { range: "0-" })).rejects.toMatchObject({ code: 416 });
  });

  it("PUT is idempotent: the same bytes get the same address and are stored once", async () => {
    const node = await scope.node({ storageEngine: engine });
    const client = await storageClient(scope, node);
    const bytes = randomBytes(100 * KiB);
    const first = await client.storage.put(bytes);
    const again = await client.storage.put(bytes);
    expect(first.created).toBe(true);
    expect(again).toEqual({ addr: first.addr, size: bytes.length, created: false });
    expect(node.storage.engine.totals()).toEqual({ objects: 1, bytes: bytes.length });
  });

  it("refuses a body that does not hash to the expected address with 409, storing nothing", async () => {
    const node = await scope.node({ storageEngine: engine });
    const client = await storageClient(scope, node);
    const bytes = randomBytes(70 * KiB);
    const wrong = await addressOf(Buffer.from("something else"));
    const stream = client.stream(AppProtoId.STORAGE, { meta: { op: "put", expected: wrong } });
    await stream.end(bytes);
    await expect(stream.response).rejects.toMatchObject({ code: 409, reason: "conflict" });
    expect(await client.storage.has(await addressOf(bytes))).toBeUndefined();
    expect(node.storage.engine.totals()).toEqual({ objects: 0, bytes: 0 });
  });

  it("keeps tenants apart unless an object is published", async () => {
    const node = await scope.node({ storageEngine: engine });
    const alice = await storageClient(scope, node, 1n);
    const bob = await storageClient(scope, node, 2n);
    const secret = await alice.storage.put("alice's notes");
    expect(await bob.storage.has(secret.addr)).toBeUndefined();
    await expect(bob.storage.getBytes(secret.addr)).rejects.toMatchObject({ code: 404, reason: "not_found" });
    await expect(bob.storage.getBytes(secret.addr, { range: "0-1" })).rejects.toMatchObject({ code: 404 });

    // The same bytes stored by Bob are his own copy; Alice's stays hers.
    const bobs = await bob.storage.put("alice's notes");
    expect(bobs).toEqual({ addr: secret.addr, size: secret.size, created: true });

    const shared = await alice.storage.put("a public map tile", { public: true });
    expect(await bob.storage.has(shared.addr)).toEqual({ size: shared.size, public: true });
    expect((await bob.storage.getBytes(shared.addr)).toString()).toBe("a public map tile");
  });

  it.each([
    ["", undefined],
    [", each chunk split in frames of limits.max_frame = 16 KiB", 16 * KiB],
  ])(
    "serves concurrent GETs of different objects their own bytes while it reuses read blocks%s",
    async (_, maxFrame) => {
      const node = await scope.node({ storageEngine: engine, ...(maxFrame ? { maxFrame } : {}) });
      const client = await storageClient(scope, node);
      // 1.5 MiB each: reads of 1, 2, 4 and 8 chunks, then a short one.
      const objects = Array.from({ length: 6 }, () => randomBytes(1536 * KiB + 7));
      const addrs = await Promise.all(objects.map(async (bytes) => (await client.storage.put(bytes)).addr));
      const wave = () =>
        Promise.all(
          objects.flatMap((bytes, i) => {
            const addr = addrs[i] as StorageAddress;
            const start = 1000 * i + 3;
            return [
              client.storage.getBytes(addr).then((got) => expect(got.equals(bytes)).toBe(true)),
              client.storage
                .getBytes(addr, { range: `${start}-` })
                .then((got) => expect(got.equals(bytes.subarray(start))).toBe(true)),
            ];
          }),
        );
      await wave();
      // Written blocks went back to the pool, and the next GETs read into them.
      expect(node.storage.blocks.idleBytes).toBeGreaterThan(0);
      await wave();
      await wave();
    },
  );

  it("refuses unknown ops and malformed addresses", async () => {
    const node = await scope.node({ storageEngine: engine });
    const client = await storageClient(scope, node);
    await expect(client.request(AppProtoId.STORAGE, { meta: { op: "delete" } })).rejects.toMatchObject({
      code: 400,
      reason: "unsupported",
    });
    await expect(
      client.request(AppProtoId.STORAGE, { meta: { op: "get", addr: "b3:XYZ" } }),
    ).rejects.toMatchObject({
      code: 400,
      reason: "bad_meta",
    });
    const missing = await addressOf(Buffer.from("never stored"));
    await expect(client.storage.getBytes(missing)).rejects.toMatchObject({ code: 404, reason: "not_found" });
    expect(await client.storage.has(missing)).toBeUndefined();
  });
});

describe("storage limits, corruption and metrics", () => {
  it("refuses objects over storage.max_object_bytes with 413, announced or not", async () => {
    const node = await scope.node({ storageMaxObjectBytes: MiB });
    const client = await storageClient(scope, node);
    await expect(client.storage.put(randomStream(2 * MiB).chunks, { size: 2 * MiB })).rejects.toMatchObject({
      code: 413,
      reason: "payload_too_large",
    });
    await expect(client.storage.put(randomStream(2 * MiB, 64 * KiB).chunks)).rejects.toMatchObject({
      code: 413,
      reason: "payload_too_large",
    });
    expect(node.storage.engine.totals()).toEqual({ objects: 0, bytes: 0 });
    // The connection is still good.
    const ok = await client.storage.put(randomBytes(MiB));
    expect(ok.size).toBe(MiB);
  });

  it("a PUT whose data source fails rejects with that error and stores nothing", async () => {
    const node = await scope.node();
    const client = await storageClient(scope, node);
    async function* failing(): AsyncIterable<Uint8Array> {
      yield randomBytes(100 * KiB);
      throw new Error("the source broke");
    }
    await expect(client.storage.put(failing())).rejects.toThrow("the source broke");
    expect(node.storage.engine.totals()).toEqual({ objects: 0, bytes: 0 });
    // The connection still works.
    expect((await client.storage.put("after")).created).toBe(true);
  });

  it("detects an object damaged on disk: the GET fails with object_corrupt before its last chunk and the object is quarantined", async () => {
    const node = await scope.node();
    const client = await storageClient(scope, node, 7n);
    const bytes = randomBytes(200 * KiB);
    const { addr } = await client.storage.put(bytes);
    const file = await open(objectPath(node, 7n, addr), "r+");
    await file.write(Buffer.from([(bytes[150_000] ?? 0) ^ 0xff]), 0, 1, 150_000);
    await file.close();

    let received = 0;
    const reading = (async () => {
      for await (const chunk of client.storage.get(addr)) received += chunk.byteLength;
    })();
    await expect(reading).rejects.toMatchObject({ code: 500, reason: "object_corrupt" });
    expect(received).toBeLessThan(bytes.length);
    expect(await client.storage.has(addr)).toBeUndefined();
    expect(node.storage.engine.totals()).toEqual({ objects: 0, bytes: 0 });
    // Storing the good bytes again repairs it.
    expect((await client.storage.put(bytes)).created).toBe(true);
    expect((await client.storage.getBytes(addr)).equals(bytes)).toBe(true);
  });

  it("detects a truncated object", async () => {
    const node = await scope.node();
    const client = await storageClient(scope, node, 7n);
    const bytes = randomBytes(64 * KiB);
    const { addr } = await client.storage.put(bytes);
    const file = await open(objectPath(node, 7n, addr), "r+");
    await file.truncate(1000);
    await file.close();
    await expect(client.storage.getBytes(addr)).rejects.toMatchObject({
      code: 500,
      reason: "object_corrupt",
    });
  });

  it("exposes storage metrics next to the golden ones", async () => {
    const node = await scope.node();
    const client = await storageClient(scope, node);
    const a = await client.storage.put(randomBytes(300 * KiB));
    await client.storage.put(randomBytes(KiB));
    await client.storage.getBytes(a.addr);
    await client.storage.getBytes(a.addr, { range: "-100" });
    const metrics = await scrape(node.adminUrl);
    expect(sampleValue(metrics, "storage_objects")).toBe(2);
    expect(sampleValue(metrics, "storage_bytes")).toBe(301 * KiB);
    expect(sampleValue(metrics, "storage_bytes_out_total")).toBe(300 * KiB + 100);
    expect(sampleValue(metrics, "storage_get_first_byte_seconds_count")).toBe(2);
    expect(metrics.types.get("storage_get_first_byte_seconds")).toBe("histogram");
  });

  it("keeps objects across a restart of the node on the same data dir", async () => {
    const { tempDir } = await import("../support/temp-dir.js");
    const dir = tempDir();
    scope.defer(dir.remove);
    const first = await scope.node({ dataDir: dir.path });
    const client = await storageClient(scope, first);
    const bytes = randomBytes(80 * KiB);
    const { addr } = await client.storage.put(bytes);
    await client.close();
    await first.close();
    const second = await scope.node({ dataDir: dir.path });
    expect(second.storage.engine.totals()).toEqual({ objects: 1, bytes: bytes.length });
    const again = await storageClient(scope, second);
    expect((await again.storage.getBytes(addr as StorageAddress)).equals(bytes)).toBe(true);
  });
});

describe("the SDK's own verification", () => {
  it("fails a whole-object GET whose bytes do not hash to the address", async () => {
    const { serve } = await import("@omnigate/sdk");
    const { loadTlsMaterial } = await import("../../packages/node/src/index.js");
    const { tempDir } = await import("../support/temp-dir.js");
    const dir = tempDir();
    scope.defer(dir.remove);
    const tls = await loadTlsMaterial({ dataDir: dir.path, cert: "", key: "" });
    const claimed = await addressOf(Buffer.from("the real bytes"));
    // Something on the path that answers with other bytes than the address names.
    const liar = await serve({
      appId: AppProtoId.STORAGE,
      tls: { cert: tls.cert, key: tls.key },
      host: "127.0.0.1",
      port: 0,
      handler: () => ({ meta: { addr: claimed, size: 9, length: 9 }, body: Buffer.from("other one") }),
    });
    scope.defer(() => liar.close());
    const client = await storageClient(scope, { oapUrl: liar.url, caPem: tls.caPem });
    await expect(client.storage.getBytes(claimed)).rejects.toMatchObject({
      name: "StorageIntegrityError",
      reason: "object_corrupt",
    });
  });
});
