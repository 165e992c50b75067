import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { generateOwnerKeyPair, readPrivateKey, signEntry } from "@omnigate/registry";
import { afterEach, describe, expect, it } from "vitest";
import { tempDir } from "../../../testing/support/temp-dir.js";
import { APP_INT_KEYS, APP_OTHER_KEYS } from "../src/config/apps.js";
import { registeredAppIds } from "../src/config/registry-ids.js";
import { ConfigError, loadConfig, startNode } from "../src/index.js";

const dirs: Array<{ remove: () => void }> = [];
afterEach(() => {
  for (const d of dirs.splice(0)) d.remove();
});

function file(name: string, text: string): string {
  const dir = tempDir();
  dirs.push(dir);
  const path = join(dir.path, name);
  writeFileSync(path, text);
  return path;
}

const BACKEND = "oap+tls://127.0.0.1:9701";

/** A registry file signed by a fresh owner key, with that key in keys/ next to it. */
function signedRegistry(ids: Array<{ id: string; name: string }>): string {
  const dir = tempDir();
  dirs.push(dir);
  const { privateKeyPem, publicKeyPem } = generateOwnerKeyPair();
  mkdirSync(join(dir.path, "keys"));
  writeFileSync(join(dir.path, "keys", "test-owner.pub.pem"), publicKeyPem);
  const entries = ids.map(({ id, name }) => {
    const entry = {
      id,
      name,
      owner: "Test owner",
      contact: "owner@example.org",
      spec: "https://example.org/spec",
      status: "draft" as const,
      created: "2026-11-26",
      key: "test-owner",
    };
    return { ...entry, signature: signEntry(entry, readPrivateKey(privateKeyPem)) };
  });
  const path = join(dir.path, "app_proto_ids.json");
  writeFileSync(path, JSON.stringify({ entries }, null, 2));
  return path;
}

describe("[[apps]] config", () => {
  it("reads [[apps]] tables with their defaults", () => {
    const config = loadConfig({
      env: {},
      file: file(
        "node.toml",
        `listen = "127.0.0.1:9443"\n\n[[apps]]\nid = "0x1001"\nname = "vest"\nbackend = "${BACKEND}"\nfingerprint = "${"ab".repeat(32)}"\n\n[[apps]]\nid = 0xF001\nname = "lab"\nbackend = "oap+tls://localhost:9800"\ninsecure = true\ntimeout_ms = 500\npool_size = 1\n`,
      ),
    });
    expect(config.listen).toBe("127.0.0.1:9443");
    expect(config.apps).toEqual([
      {
        id: 0x1001,
        name: "vest",
        backend: BACKEND,
        caFile: "",
        fingerprint: "ab".repeat(32),
        insecure: false,
        maxInflight: APP_INT_KEYS.maxInflight.default,
        timeoutMs: APP_INT_KEYS.timeoutMs.default,
        poolSize: APP_INT_KEYS.poolSize.default,
        bufferBytes: APP_INT_KEYS.bufferBytes.default,
      },
      expect.objectContaining({ id: 0xf001, insecure: true, timeoutMs: 500, poolSize: 1 }),
    ]);
  });

  it("refuses an unregistered id in 0x1000–0xEFFF with a message that says what to do", () => {
    const toml = file("node.toml", `[[apps]]\nid = "0x1002"\nname = "x"\nbackend = "${BACKEND}"\n`);
    expect(() => loadConfig({ env: {}, file: toml })).toThrow(ConfigError);
    expect(() => loadConfig({ env: {}, file: toml })).toThrow(
      /apps\[0\] in .*node\.toml: app id 0x1002 is not in the app registry .*claim it first .*0xF000–0xFFFF/,
    );
    // The same check holds for apps given in code.
    expect(() => loadConfig({ env: {}, apps: [{ id: 0x2000, name: "x", backend: BACKEND }] })).toThrow(
      /app id 0x2000 is not in the app registry/,
    );
  });

  it("reads the registry named by registry_file, and refuses ids the node's services own", () => {
    const registry = signedRegistry([{ id: "0x2a2a", name: "other" }]);
    const apps = [{ id: "0x2A2A", name: "other", backend: BACKEND }];
    expect(loadConfig({ env: {}, flags: { registryFile: registry }, apps }).apps[0]?.id).toBe(0x2a2a);
    expect(() => loadConfig({ env: {}, apps })).toThrow(/0x2a2a is not in the app registry/);
    expect(() => loadConfig({ env: {}, apps: [{ id: 0x0101, name: "echo", backend: BACKEND }] })).toThrow(
      /0x0101 is below 0x1000, the range of the node's own services/,
    );
    expect(() =>
      loadConfig({
        env: {},
        flags: { registryFile: "/nonexistent/ids.json" },
        apps: [{ id: "0x1001", name: "vest", backend: BACKEND }],
      }),
    ).toThrow(/app registry \/nonexistent\/ids\.json/);
  });

  it("refuses to start on a registry whose entry was edited after signing", () => {
    const registry = signedRegistry([{ id: "0x2a2a", name: "other" }]);
    writeFileSync(
      registry,
      readFileSync(registry, "utf8").replace('"owner": "Test owner"', '"owner": "Someone else"'),
    );
    expect(() =>
      loadConfig({
        env: {},
        flags: { registryFile: registry },
        apps: [{ id: "0x2a2a", name: "o", backend: BACKEND }],
      }),
    ).toThrow(/does not verify .*signature/);
  });

  it("refuses bad entries with the key and what is expected", () => {
    const bad = (extra: string) =>
      loadConfig({
        env: {},
        file: file("node.toml", `[[apps]]\nid = "0xF001"\nname = "x"\nbackend = "${BACKEND}"\n${extra}`),
      });
    expect(() => bad("timeout = 5\n")).toThrow(/unknown setting "timeout" in apps\[0\]/);
    expect(() => bad("max_inflight = 0\n")).toThrow(/invalid max_inflight 0: expected an integer from 1/);
    expect(() => bad('fingerprint = "zz"\n')).toThrow(/not a SHA-256 fingerprint/);
    expect(() => bad('insecure = true\nca_file = "/ca.pem"\n')).toThrow(/cannot be combined/);
    expect(() =>
      loadConfig({ env: {}, apps: [{ id: "0xF001", name: "x", backend: "https://127.0.0.1:1" }] }),
    ).toThrow(/invalid backend: unsupported scheme "https"/);
    expect(() =>
      loadConfig({
        env: {},
        apps: [
          { id: 0xf001, name: "x", backend: BACKEND },
          { id: "0xf001", name: "y", backend: BACKEND },
        ],
      }),
    ).toThrow(/0xf001 is configured twice/);
    expect(() => loadConfig({ env: {}, apps: [{ id: "4097", name: "x", backend: BACKEND }] })).toThrow(
      /invalid id "4097"/,
    );
  });

  it("stops the node at start on an unregistered app, before it listens", async () => {
    const dir = tempDir();
    dirs.push(dir);
    await expect(
      startNode({
        overrides: {
          listen: "127.0.0.1:0",
          wsListen: "127.0.0.1:0",
          admin: "127.0.0.1:0",
          dataDir: dir.path,
        },
        apps: [{ id: 0x1234, name: "nope", backend: BACKEND }],
        logLevel: "silent",
      }),
    ).rejects.toThrow(ConfigError);
  });

  it("knows the ids of the registry shipped with the node", () => {
    expect(registeredAppIds("").has(0x1001)).toBe(true);
  });
});

describe("docs/configuration.md", () => {
  const doc = readFileSync(new URL("../../../docs/configuration.md", import.meta.url), "utf8");

  it("lists every [[apps]] key with its default", () => {
    const rows = doc.split("\n");
    const row = (key: string) => rows.find((line) => line.split("|")[1]?.trim() === `\`${key}\``);
    for (const key of APP_OTHER_KEYS) expect(row(key), key).toBeDefined();
    for (const entry of Object.values(APP_INT_KEYS)) {
      expect(row(entry.file), entry.file).toContain(`\`${entry.default}\``);
    }
  });

  it("shows an [[apps]] example the node accepts", () => {
    const example = /```toml\n(\[\[apps\]\][\s\S]*?)```/.exec(doc)?.[1];
    expect(example).toBeDefined();
    const config = loadConfig({ env: {}, file: file("apps.toml", example as string) });
    expect(config.apps.map((app) => app.id)).toEqual([0x1001]);
  });
});
