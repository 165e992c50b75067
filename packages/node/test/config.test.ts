import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { tempDir } from "../../../testing/support/temp-dir.js";
import {
  CONFIG_SCHEMA,
  ConfigError,
  envName,
  flagName,
  loadConfig,
  parseAddress,
} from "../src/config/index.js";

const dirs: Array<{ remove: () => void }> = [];
afterEach(() => {
  for (const d of dirs.splice(0)) d.remove();
});

function tomlFile(text: string): string {
  const dir = tempDir();
  dirs.push(dir);
  const path = join(dir.path, "omnigate.toml");
  writeFileSync(path, text);
  return path;
}

describe("config", () => {
  it("uses the schema defaults when nothing is set", () => {
    const config = loadConfig({ env: {} });
    expect(config.listen).toBe("127.0.0.1:9443");
    expect(config.admin).toBe("127.0.0.1:9600");
    expect(config.maxFrame).toBe(1_048_576);
    expect(config.maxInflight).toBe(CONFIG_SCHEMA.maxInflight.default());
    expect(config.dataDir).toMatch(/omnigate$/);
  });

  it("applies flag > env > file > default", () => {
    const file = tomlFile('listen = "127.0.0.1:7000"\n[limits]\nmax_inflight = 10\nmax_cap_len = 100\n');
    const env = { OMNIGATE_MAX_INFLIGHT: "20", OMNIGATE_LISTEN: "127.0.0.1:7001" };
    const config = loadConfig({ file, env, flags: { listen: "127.0.0.1:7002" } });
    expect(config.listen).toBe("127.0.0.1:7002"); // flag beats env and file
    expect(config.maxInflight).toBe(20); // env beats file
    expect(config.maxCapLen).toBe(100); // file beats default
  });

  it("names the key, the source and the expectation on a bad value", () => {
    expect(() => loadConfig({ env: { OMNIGATE_MAX_INFLIGHT: "lots" } })).toThrow(
      /limits\.max_inflight "lots" \(from OMNIGATE_MAX_INFLIGHT\): expected an integer from 1 to 65536/,
    );
    expect(() => loadConfig({ env: {}, flags: { maxFrame: "2000000" } })).toThrow(/--max-frame/);
    expect(() => loadConfig({ env: {}, flags: { listen: "nowhere" } })).toThrow(ConfigError);
    expect(() => loadConfig({ env: {}, flags: { logLevel: "loud" } })).toThrow(/one of trace, debug/);
  });

  it("refuses unknown keys and invalid TOML in the file", () => {
    expect(() => loadConfig({ env: {}, file: tomlFile("max_inflite = 3\n") })).toThrow(
      /unknown setting "max_inflite"/,
    );
    expect(() => loadConfig({ env: {}, file: tomlFile("listen = \n") })).toThrow(/not valid TOML/);
    expect(() => loadConfig({ env: {}, file: "/nonexistent/omnigate.toml" })).toThrow(
      /cannot read config file/,
    );
  });

  it("checks settings that depend on each other", () => {
    expect(() => loadConfig({ env: {}, flags: { tlsCert: "/x.pem" } })).toThrow(/go together/);
    expect(() => loadConfig({ env: {}, flags: { maxFrame: 4096, maxCapLen: 4057 } })).toThrow(/max_cap_len/);
    // The documented minimum max_frame works with a capability bound that still fits.
    expect(loadConfig({ env: {}, flags: { maxFrame: 4096, maxCapLen: 4056 } }).maxFrame).toBe(4096);
  });

  it("takes the WebSocket listener's address (empty turns it off) and its origin list", () => {
    expect(loadConfig({ env: {} }).wsListen).toBe("127.0.0.1:9444");
    expect(loadConfig({ env: {}, flags: { wsListen: "" } }).wsListen).toBe("");
    expect(loadConfig({ env: {}, file: tomlFile('[ws]\nlisten = ""\n') }).wsListen).toBe("");
    expect(() => loadConfig({ env: {}, flags: { wsListen: "nowhere" } })).toThrow(
      /invalid ws\.listen \(from --ws-listen\)/,
    );
    expect(() =>
      loadConfig({ env: {}, flags: { listen: "127.0.0.1:9000", wsListen: "127.0.0.1:9000" } }),
    ).toThrow(/its own port/);
    const origins = "https://app.example, http://localhost:5173";
    expect(loadConfig({ env: { OMNIGATE_WS_ALLOWED_ORIGINS: origins } }).wsAllowedOrigins).toBe(origins);
    expect(() => loadConfig({ env: {}, flags: { wsAllowedOrigins: "app.example" } })).toThrow(
      /invalid ws\.allowed_origins: "app\.example" is not an origin/,
    );
  });

  it("parses host:port forms", () => {
    expect(parseAddress("127.0.0.1:0")).toEqual({ host: "127.0.0.1", port: 0 });
    expect(parseAddress("[::1]:9443")).toEqual({ host: "::1", port: 9443 });
    expect(() => parseAddress("127.0.0.1:70000")).toThrow(ConfigError);
  });
});

describe("docs/configuration.md", () => {
  const doc = readFileSync(new URL("../../../docs/configuration.md", import.meta.url), "utf8");

  it("lists every setting with its flag, environment name and default", () => {
    for (const entry of Object.values(CONFIG_SCHEMA)) {
      const row = doc.split("\n").find((line) => line.split("|")[1]?.trim() === `\`${entry.file}\``);
      expect(row, entry.file).toBeDefined();
      expect(row).toContain(`\`--${flagName(entry)}\``);
      expect(row).toContain(`\`${envName(entry)}\``);
      const shown = entry.default();
      if (entry.file !== "data_dir" && shown !== "") expect(row).toContain(`\`${shown}\``);
    }
  });

  it("shows an example file the node accepts", () => {
    const example = /```toml\n([\s\S]*?)```/.exec(doc)?.[1];
    expect(example).toBeDefined();
    const config = loadConfig({ env: {}, file: tomlFile(example as string) });
    expect(config.listen).toBe("0.0.0.0:9443");
    expect(config.maxInflight).toBe(512);
    expect(config.tlsCert).toBe("/etc/omnigate/fullchain.pem");
  });
});
