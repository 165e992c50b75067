#!/usr/bin/env -S node --initial-old-space-size=128
import { DEFAULT_NODE_URL, defaultDataDir } from "@omnigate/sdk";
import { Command, Option } from "commander";
import { CONFIG_SCHEMA, ConfigError, type ConfigKey, envName, flagName } from "../config/index.js";
import { type OmnigateNode, startNode } from "../node.js";
import { VERSION } from "../version.js";

const program = new Command("omnigate")
  .description("Run an Omnigate node: OAP/1 over TLS, with an admin HTTP port for health and readiness.")
  .version(VERSION)
  .option("-c, --config <file>", "TOML config file (env: OMNIGATE_CONFIG)")
  .addHelpText("after", "\nPrecedence: flag > environment (OMNIGATE_*) > config file > default.");

const keys = Object.keys(CONFIG_SCHEMA) as ConfigKey[];
for (const key of keys) {
  const entry = CONFIG_SCHEMA[key];
  const shown = entry.default();
  program.addOption(
    new Option(
      `--${flagName(entry)} <value>`,
      `${entry.doc} (env: ${envName(entry)}; default: ${shown === "" ? "none" : shown})`,
    ),
  );
}

async function main(): Promise<void> {
  program.parse();
  const opts = program.opts<Record<string, string | undefined>>();
  const flags: Partial<Record<ConfigKey, string>> = {};
  for (const key of keys) {
    const value = opts[key];
    if (value !== undefined) flags[key] = value;
  }

  let node: OmnigateNode;
  try {
    node = await startNode({
      flags,
      configFile: opts.config ?? process.env.OMNIGATE_CONFIG,
    });
  } catch (err) {
    if (err instanceof ConfigError || isListenError(err)) {
      const hint = isListenError(err)
        ? "  hint: is another node running? stop it, or pick other ports with --listen, --ws-listen and --admin\n"
        : "";
      process.stderr.write(`omnigate: ${(err as Error).message}\n${hint}`);
      process.exit(2);
    }
    throw err;
  }
  printBanner(node);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      node.log.warn({ signal }, "second signal: exiting now");
      process.exit(1);
    }
    stopping = true;
    node.log.info({ signal }, "stopping");
    node.close().then(
      () => process.exit(0),
      (err) => {
        node.log.error({ err }, "error while stopping");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

function printBanner(node: OmnigateNode): void {
  const lines = [
    "",
    `Omnigate ${VERSION} — node ${node.config.nodeId} is serving`,
    `  OAP/1 over TLS   ${node.oapUrl}`,
    ...(node.wsUrl ? [`  OAP/1 over WSS   ${node.wsUrl}  (browsers; see docs/browser.md)`] : []),
    `  admin HTTP       ${node.adminUrl}/healthz  ${node.adminUrl}/readyz`,
    `  status, metrics  ${node.adminUrl}/status  ${node.adminUrl}/metrics`,
    ...(node.config.privacyDashboard === "on" ? [`  privacy          ${node.adminUrl}/privacy`] : []),
  ];
  if (node.tls.caFile) {
    lines.push(
      `  dev CA           ${node.tls.caFile}${node.tls.created ? "  (created now)" : ""}`,
      `  CA SHA-256       ${node.caFingerprint}`,
      "",
      ...tryIt(node),
    );
  } else {
    lines.push(`  cert SHA-256     ${node.tls.certFingerprint}`);
  }
  const auth = node.auth;
  if (auth.mode === "on" && auth.devCap) {
    lines.push(
      "",
      "  Capabilities are on: every request needs one. A dev capability for tenant 0, every app:",
      `    export RON_CAP=${auth.devCap}`,
      `  (kept in ${auth.devCapPath ?? "memory"}; mint others with npm run ronctl -- cap mint, admin token in ${auth.adminTokenPath})`,
    );
  } else {
    lines.push("", '  Capabilities are OFF (auth.mode = "off"): any client may call any app.');
  }
  lines.push("  Stop with Ctrl-C (in-flight streams finish first).", "");
  process.stdout.write(`${lines.join("\n")}\n`);
}

/**
 * Clients on this machine reach oap+tls://127.0.0.1:9443 and read the dev CA and capability
 * from the default data dir by themselves; a node elsewhere needs the two variables that say so.
 */
function tryIt(node: OmnigateNode): string[] {
  const foundByDefault = node.oapUrl === DEFAULT_NODE_URL && node.config.dataDir === defaultDataDir();
  if (foundByDefault) {
    return ["  Try it:  npm run example:echo   (clients here find this node, its CA and dev capability)"];
  }
  return [
    `  Try it:  RON_NODE_URL=${node.oapUrl} OMNIGATE_DATA_DIR=${node.config.dataDir} npm run example:echo`,
  ];
}

function isListenError(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === "EADDRINUSE" || code === "EACCES" || code === "EADDRNOTAVAIL";
}

main().catch((err) => {
  process.stderr.write(`omnigate: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
