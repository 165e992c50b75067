import { access, readFile } from "node:fs/promises";
import { join } from "node:path";
import { AdminApi } from "./admin-api.js";
import type { VestLayout, VestPorts } from "./vest-layout.js";

export interface RunningNodeCheck {
  adminUrl: string;
  layout: VestLayout;
  ports: VestPorts;
  /** The node config this start would write (nodeConfigToml). */
  wantedConfig: string;
}

/**
 * Refuses a node found answering on Vest's admin port unless the page would work with it:
 * it must be the node of this Vest directory (our admin token opens it) and run exactly the
 * config this start would write. A node keeps the config it started with, so with another
 * web port it would refuse the page's WebSocket (origin), and with another backend port it
 * would route sign-in nowhere, while startup said "Vest is running".
 */
export async function checkRunningNode(check: RunningNodeCheck): Promise<void> {
  const { adminUrl, layout, ports } = check;
  const stopIt = `stop that node (its admin API is ${adminUrl}), then start Vest again`;
  const missing = await firstMissing([
    join(layout.nodeDataDir, "auth", "admin.token"),
    join(layout.nodeDataDir, "tls", "ca.pem"),
  ]);
  if (missing) {
    throw new Error(
      `a node answers at ${adminUrl}, but it is not the node of ${layout.root} (there is no ${missing}): ${stopIt}, or give Vest the --dir that node was started from`,
    );
  }
  const admin = await AdminApi.open(adminUrl, layout.nodeDataDir);
  if (!(await admin.tokenAccepted())) {
    throw new Error(
      `a node answers at ${adminUrl}, but it is not the node of ${layout.root} (it refuses that directory's admin token): ${stopIt}, or give Vest the --dir that node was started from`,
    );
  }
  const running = await readFile(layout.nodeConfig, "utf8").catch(() => undefined);
  if (running === undefined) {
    throw new Error(
      `a node answers at ${adminUrl}, but ${layout.nodeConfig} is missing, so its config is unknown: ${stopIt}`,
    );
  }
  const differences = configDifferences(running, check.wantedConfig);
  if (differences.length > 0) {
    throw new Error(
      `a node answers at ${adminUrl}, but it runs another config than this start needs (${differences.join("; ")}), so the page could not use it: ${stopIt}`,
    );
  }
  if (ports.oap === 0 || ports.ws === 0) {
    throw new Error(
      `a node answers at ${adminUrl}, but this start asks for any free OAP/WSS port, so it cannot tell where that node listens: ${stopIt}`,
    );
  }
}

/** What a running config has that the wanted one does not, one phrase per differing line. */
export function configDifferences(running: string, wanted: string): string[] {
  const have = running.split("\n");
  const want = wanted.split("\n");
  if (have.length !== want.length) return ["node.toml has another layout (written by another Vest version)"];
  const out: string[] = [];
  let section = "";
  want.forEach((line, i) => {
    if (line.startsWith("[")) section = line;
    const old = have[i] as string;
    if (old === line) return;
    const key = /^([\w.]+)\s*=/.exec(line)?.[1] ?? "";
    out.push(`${meaning(key, section)}: node.toml has ${old.trim()}, this start needs ${line.trim()}`);
  });
  return out;
}

function meaning(key: string, section: string): string {
  if (key === "allowed_origins") return "the page's origin (--web-port)";
  if (key === "backend" || key === "ca_file") return "the Vest backend";
  if (key === "rate" || key === "burst") return `a quota ${section}`;
  if (key === "listen" || key === "admin") return `a listen address${section ? ` ${section}` : ""}`;
  if (key === "data_dir") return "the data dir";
  return section || "the config";
}

async function firstMissing(files: string[]): Promise<string | undefined> {
  for (const file of files) {
    if (
      !(await access(file).then(
        () => true,
        () => false,
      ))
    )
      return file;
  }
  return undefined;
}
