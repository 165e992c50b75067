import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../../../testing/support/temp-dir.js";
import { RootKeyRing } from "../src/auth/root-keys.js";
import { clusterNodeUrls } from "../src/config/cluster-nodes.js";
import { ConfigError, loadConfig } from "../src/config/index.js";

describe("cluster settings", () => {
  it("takes cluster.nodes as comma-separated OAP URLs, each one a client could dial", () => {
    const config = loadConfig({
      env: { OMNIGATE_CLUSTER_NODES: " oap+tls://10.0.0.1:9443 , wss://10.0.0.2:9444/oap," },
    });
    expect(clusterNodeUrls(config.clusterNodes)).toEqual([
      "oap+tls://10.0.0.1:9443",
      "wss://10.0.0.2:9444/oap",
    ]);
    expect(loadConfig({ env: {} }).clusterNodes).toBe("");
  });

  it("refuses an entry a client could not dial, and a node named twice", () => {
    expect(() => loadConfig({ env: {}, flags: { clusterNodes: "https://10.0.0.1" } })).toThrow(ConfigError);
    expect(() => loadConfig({ env: {}, flags: { clusterNodes: "oap+tls://a:1,oap+tls://b:2?x" } })).toThrow(
      /invalid cluster.nodes entry/,
    );
    expect(() => loadConfig({ env: {}, flags: { clusterNodes: "oap+tls://a:1,oap+tls://a:1" } })).toThrow(
      /names a node twice/,
    );
  });

  it("refuses at load a shared engine without its servers, and s3 objects past S3's 5 GiB copy limit", () => {
    const load = (env: Record<string, string>) => () => loadConfig({ env });
    expect(load({ OMNIGATE_MAILBOX_ENGINE: "jetstream" })).toThrow(/needs mailbox.nats_urls/);
    expect(load({ OMNIGATE_MAILBOX_ENGINE: "jetstream", OMNIGATE_MAILBOX_NATS_URLS: " , " })).toThrow(
      ConfigError,
    );
    expect(load({ OMNIGATE_MAILBOX_ENGINE: "redis" })).toThrow(/needs mailbox.redis_url/);
    expect(load({ OMNIGATE_STORAGE_ENGINE: "s3" })).toThrow(/needs storage.s3_endpoint/);
    const s3 = { OMNIGATE_STORAGE_ENGINE: "s3", OMNIGATE_STORAGE_S3_ENDPOINT: "http://127.0.0.1:8080" };
    expect(load({ ...s3, OMNIGATE_STORAGE_MAX_OBJECT_BYTES: String(6 * 1024 ** 3) })).toThrow(
      /at most 5 GiB/,
    );
    expect(
      loadConfig({ env: { ...s3, OMNIGATE_STORAGE_MAX_OBJECT_BYTES: String(5 * 1024 ** 3) } }).storageEngine,
    ).toBe("s3");
    expect(
      loadConfig({
        env: { OMNIGATE_MAILBOX_ENGINE: "jetstream", OMNIGATE_MAILBOX_NATS_URLS: "nats://127.0.0.1:4222" },
      }).mailboxEngine,
    ).toBe("jetstream");
  });

  it("opens a root key ring from auth.root_keys_file, so nodes sharing the file share keys", async () => {
    const dir = tempDir();
    try {
      const file = join(dir.path, "shared", "keys.json");
      const first = await RootKeyRing.open(join(dir.path, "node1"), Date.now, file);
      const second = await RootKeyRing.open(join(dir.path, "node2"), Date.now, file);
      expect(first.created).toBe(true);
      expect(second.created).toBe(false);
      expect(Buffer.from(second.ring.current().key)).toEqual(Buffer.from(first.ring.current().key));
    } finally {
      dir.remove();
    }
  });
});
