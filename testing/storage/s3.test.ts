import { ListObjectsV2Command, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { tenantNamespace } from "../../packages/node/src/storage/namespaces.js";
import { TestScope } from "../support/scope.js";
import { type SwiftCluster, startSwiftCluster } from "../support/swift-cluster.js";
import { KiB, MiB, randomBytes, storageClient } from "./support.js";

const scope = new TestScope();
afterEach(() => scope.close());

let swift: SwiftCluster;
beforeAll(async () => {
  swift = await startSwiftCluster();
}, 360_000); // may wait for other test files' Swift clusters to start first
afterAll(async () => {
  await swift?.stop();
});

/** A node whose storage is the s3 engine on the test's Swift cluster, in `bucket`. */
function s3Node(bucket: string) {
  return scope.node({
    storageEngine: "s3",
    storageS3Endpoint: swift.endpoint,
    storageS3Bucket: bucket,
    storageS3AccessKeyId: swift.accessKeyId,
    storageS3SecretAccessKey: swift.secretAccessKey,
  });
}

describe("a node on the s3 engine (OpenStack Swift)", () => {
  it("stores through PUT and serves plain, ranged and chunk-verified GETs byte-exact", async () => {
    const node = await s3Node("node-objects");
    expect(node.storage.engine.kind).toBe("s3");
    const client = await storageClient(scope, node);
    for (const size of [0, 64 * KiB + 1, 17 * MiB + 3]) {
      const bytes = randomBytes(size);
      const put = await client.storage.put(bytes);
      expect(put).toMatchObject({ size, created: true });
      expect((await client.storage.getBytes(put.addr)).equals(bytes), `GET ${size}`).toBe(true);
      expect(
        (await client.storage.getBytes(put.addr, { verify: "chunks" })).equals(bytes),
        `verified GET ${size}`,
      ).toBe(true);
      expect(await client.storage.has(put.addr)).toEqual({ size, public: false });
      expect(await client.storage.put(bytes)).toEqual({ addr: put.addr, size, created: false });
      if (size < 2) continue;
      const [start, end] = [Math.floor(size / 3), size - 2];
      const range = `${start}-${end}`;
      expect(
        (await client.storage.getBytes(put.addr, { range })).equals(bytes.subarray(start, end + 1)),
      ).toBe(true);
      const verified = await client.storage.getBytes(put.addr, { range, verify: "chunks" });
      expect(verified.equals(bytes.subarray(start, end + 1)), `verified ${range}`).toBe(true);
    }
    expect(node.storage.engine.totals()).toEqual({ objects: 3, bytes: 64 * KiB + 1 + 17 * MiB + 3 });
  });

  it("refuses an object damaged in the store with object_corrupt, and quarantines it", async () => {
    const node = await s3Node("node-damaged");
    const client = await storageClient(scope, node);
    const bytes = randomBytes(300 * KiB);
    const { addr } = await client.storage.put(bytes);
    const key = `${tenantNamespace(1n)}/${addr.slice(3)}`;
    const damaged = Buffer.from(bytes);
    damaged[1000] = (damaged[1000] as number) ^ 0xff;
    const s3 = new S3Client({
      endpoint: swift.endpoint,
      region: swift.region,
      credentials: swift,
      forcePathStyle: true,
    });
    scope.defer(() => s3.destroy());
    await s3.send(new PutObjectCommand({ Bucket: "node-damaged", Key: key, Body: damaged }));
    await expect(client.storage.getBytes(addr)).rejects.toMatchObject({
      code: 500,
      reason: "object_corrupt",
    });
    expect(await client.storage.has(addr)).toBeUndefined();
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: "node-damaged", Prefix: "quarantine/" }));
    expect(listed.Contents?.map((entry) => entry.Key)).toEqual([expect.stringContaining(addr.slice(3))]);
    // The right bytes PUT again are stored again.
    expect(await client.storage.put(bytes)).toMatchObject({ addr, created: true });
    expect((await client.storage.getBytes(addr)).equals(bytes)).toBe(true);
  });

  it("serves to a second node sharing the bucket what the first stored", async () => {
    const first = await s3Node("node-shared");
    const second = await s3Node("node-shared");
    const bytes = randomBytes(3 * MiB + 5);
    const { addr } = await (await storageClient(scope, first)).storage.put(bytes, { public: true });
    const other = await storageClient(scope, second, 2n);
    expect((await other.storage.getBytes(addr, { verify: "chunks" })).equals(bytes)).toBe(true);
    await expect(other.storage.put(bytes, { public: true })).resolves.toMatchObject({ created: false });
  });
});
