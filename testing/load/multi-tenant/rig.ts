/**
 * The processes under test: the echo backend and a node configured with every tenant's
 * quota and routing the backend app, both in a temporary directory removed afterwards.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadTlsMaterial } from "../../../packages/node/src/index.js";
import { freePort } from "../../support/free-port.js";
import { type NodeProcess, startNodeProcess } from "../../support/node-process.js";
import { tempDir } from "../../support/temp-dir.js";
import { type Backend, startBackend } from "./backend.js";
import type { Tenant } from "./classes.js";
import { nodeConfig } from "./node-config.js";
import type { Settings } from "./options.js";

export interface Rig {
  node: NodeProcess;
  backend: Backend;
}

/** Starts the backend and the node, runs `body` against them, then stops both and cleans up. */
export async function withRig<T>(
  tenants: Tenant[],
  settings: Settings,
  body: (rig: Rig) => Promise<T>,
): Promise<T> {
  const dir = tempDir("omnigate-load-tenants-");
  const started: Partial<Rig> = {};
  try {
    return await body(await startRig(dir.path, tenants, settings, started));
  } finally {
    await Promise.all([started.node?.stop(), started.backend?.stop()]);
    dir.remove();
  }
}

/** Starts both side by side; whichever started goes into `started`, so it is stopped even if the other failed. */
async function startRig(
  dir: string,
  tenants: Tenant[],
  settings: Settings,
  started: Partial<Rig>,
): Promise<Rig> {
  // The backend's CA is made here first, so the node (which dials its backends on first
  // use) and the backend can start side by side.
  const backendTlsDir = join(dir, "backend");
  const backendTls = await loadTlsMaterial({ dataDir: backendTlsDir, cert: "", key: "" });
  const backendPort = await freePort();
  const configPath = join(dir, "omnigate.toml");
  writeFileSync(
    configPath,
    nodeConfig(
      tenants,
      settings.classes,
      {
        url: `oap+tls://127.0.0.1:${backendPort}`,
        caFile: backendTls.caFile as string,
        maxInflight: settings.backendMaxInflight,
      },
      settings.nodeMaxInflight,
    ),
  );
  const [b, nd] = await Promise.allSettled([
    startBackend(backendTlsDir, backendPort),
    startNodeProcess(["--config", configPath]),
  ]);
  if (b.status === "fulfilled") started.backend = b.value;
  if (nd.status === "fulfilled") started.node = nd.value;
  if (b.status === "rejected") throw b.reason;
  if (nd.status === "rejected") throw nd.reason;
  const { node, backend } = started;
  if (!node || !backend) throw new Error("unreachable");
  settings.log(`node ${node.oapUrl}, backend ${backend.url}, ${settings.tenants} tenants`);
  return { node, backend };
}

/** The node's own refusal counts (/readyz load.refused), null if it cannot say. */
export async function admissionRefused(adminUrl: string): Promise<Record<string, number> | null> {
  try {
    const res = await fetch(`${adminUrl}/readyz`);
    const body = (await res.json()) as { load?: { refused?: Record<string, number> } };
    return body.load?.refused ?? null;
  } catch {
    return null;
  }
}
