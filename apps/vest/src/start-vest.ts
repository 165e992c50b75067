import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { loadTlsMaterial } from "@omnigate/node";
import { connect } from "@omnigate/sdk";
import { type Logger, pino } from "pino";
import { startVestBackend, type VestBackend } from "./backend/vest-backend.js";
import { AdminApi, nodeAnswers } from "./node-runner/admin-api.js";
import {
  DEFAULT_VEST_QUOTAS,
  type NodeConfigInput,
  nodeConfigToml,
  type VestQuotas,
  writeNodeConfig,
} from "./node-runner/node-config.js";
import { startNodeProcess, type VestNodeProcess } from "./node-runner/node-process.js";
import { checkRunningNode } from "./node-runner/node-reuse.js";
import {
  DEFAULT_VEST_PORTS,
  NEIGHBOUR_TENANT,
  VEST_TENANT,
  type VestLayout,
  type VestPorts,
  vestLayout,
} from "./node-runner/vest-layout.js";
import { MAILBOX_APP_ID, type PageConfig, STORAGE_APP_ID, VEST_APP_ID } from "./shared/protocol.js";
import { type StormTarget, stormVest } from "./storm/storm-runner.js";
import { loadOrBuildArchive } from "./tiles/build-archive.js";
import { startWebServer, type VestWebServer, WebNotReadyError } from "./web-server/web-server.js";

/** How long the tenant capability the backend holds lasts; `npm run vest` mints one per start. */
const TENANT_CAP_TTL_S = 7 * 24 * 3600;
/** How long a guest capability (sign-in only) lasts; `/config.json` hands out a fresh one. */
const GUEST_CAP_TTL_S = 3600;

export interface StartVestOptions {
  /** Where state lives (default `.vest`). */
  dir?: string;
  ports?: Partial<VestPorts>;
  quotas?: VestQuotas;
  maxZoom?: number;
  /** The chat's rooms (default DEFAULT_ROOMS); no others can be joined. */
  rooms?: readonly string[];
  /** Progress lines for a person watching (default: none). */
  say?: (line: string) => void;
  /** More node.js flags for the node process (e.g. a heap-snapshot signal). */
  nodeFlags?: string[];
}

/** A running Vest: node (ours, or one found running), archive, backend, page. */
export interface RunningVest {
  layout: VestLayout;
  ports: VestPorts;
  pageUrl: string;
  wsUrl: string;
  oapUrl: string;
  adminUrl: string;
  caPem: string;
  archive: { addr: string; size: number; tiles: number; buildMs: number };
  /** Our node process; undefined when a node was already running. */
  node: VestNodeProcess | undefined;
  backend: VestBackend;
  web: VestWebServer;
  tenantCap: Uint8Array;
  /** What a storm aims at (the page's storm switch and `npm run vest:storm` use it). */
  stormTarget: StormTarget;
  stop(): Promise<void>;
}

/**
 * Starts the Vest pilot: a node routing app 0x1001 to the backend (unless one is already
 * running on the admin port), the world archive stored in the node's storage, the backend,
 * and the page's HTTP server.
 */
export async function startVest(options: StartVestOptions = {}): Promise<RunningVest> {
  const say = options.say ?? (() => {});
  const layout = vestLayout(options.dir ?? ".vest");
  const ports: VestPorts = { ...DEFAULT_VEST_PORTS, ...options.ports };
  const quotas = options.quotas ?? DEFAULT_VEST_QUOTAS;
  await mkdir(layout.logDir, { recursive: true });
  const logger = fileLogger(layout.backendLog);

  // The backend first: the node's config needs its port (0 picks one) and its CA.
  const backendTls = await loadTlsMaterial({ dataDir: layout.backendDir, cert: "", key: "" });
  const backend = await startVestBackend({
    tls: { cert: backendTls.cert, key: backendTls.key },
    host: ports.host,
    port: ports.backend,
    roomsFile: layout.roomsFile,
    ...(options.rooms ? { rooms: options.rooms } : {}),
    logger,
  });
  const cleanups: Array<() => Promise<void>> = [() => backend.close()];
  // The page's server next (its config is answered once everything is up): the node lets
  // exactly its origin open a WebSocket.
  let pageConfig: (() => PageConfig) | undefined;
  let web: VestWebServer;
  try {
    web = await startWebServer({
      host: ports.host,
      port: ports.web,
      logger: logger.child({ name: "vest-web" }),
      pageConfig: () => {
        if (!pageConfig) throw new WebNotReadyError();
        return pageConfig();
      },
    });
  } catch (err) {
    await backend.close();
    throw err;
  }
  cleanups.push(() => web.close());
  const stop = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  };
  try {
    const adminUrl = `http://${ports.host}:${ports.admin}`;
    const nodeConfig: NodeConfigInput = {
      ports: { ...ports, backend: backend.server.port },
      dataDir: layout.nodeDataDir,
      backendCaFile: backendTls.caFile as string,
      quotas,
      origins: [new URL(web.url).origin],
    };
    let node: VestNodeProcess | undefined;
    let oapUrl: string;
    let wsUrl: string;
    if (ports.admin !== 0 && (await nodeAnswers(adminUrl))) {
      // Only a node this start could have started itself will do: see checkRunningNode.
      await checkRunningNode({ adminUrl, layout, ports, wantedConfig: nodeConfigToml(nodeConfig) });
      say(`a node is already running at ${adminUrl}: using it`);
      oapUrl = `oap+tls://${ports.host}:${ports.oap}`;
      wsUrl = `wss://${ports.host}:${ports.ws}/oap`;
    } else {
      await writeNodeConfig(layout.nodeConfig, nodeConfig);
      say("starting the node…");
      node = await startNodeProcess({
        configFile: layout.nodeConfig,
        logFile: layout.nodeLog,
        ...(options.nodeFlags ? { nodeFlags: options.nodeFlags } : {}),
        cwd: layout.root,
      });
      cleanups.push(() => (node as VestNodeProcess).stop());
      ({ oapUrl, wsUrl } = node);
    }
    const nodeAdminUrl = node?.adminUrl ?? adminUrl;
    const caPem = await readFile(join(layout.nodeDataDir, "tls", "ca.pem"), "utf8");
    const admin = await AdminApi.open(nodeAdminUrl, layout.nodeDataDir);
    const tenantCap = await admin.mintTenantCap({
      tenant: VEST_TENANT,
      apps: [MAILBOX_APP_ID, STORAGE_APP_ID, VEST_APP_ID],
      ttlSeconds: TENANT_CAP_TTL_S,
    });

    say("loading the world map archive…");
    const built = await loadOrBuildArchive(layout.archiveFile, {
      ...(options.maxZoom === undefined ? {} : { maxZoom: options.maxZoom }),
      onProgress: progressPrinter(say),
    });
    const client = await connect(oapUrl, { ca: caPem, cap: tenantCap, tenant: VEST_TENANT });
    let stored: { addr: string; size: number };
    try {
      const put = await client.storage.put(built.bytes, { size: built.bytes.byteLength });
      stored = { addr: put.addr, size: put.size };
    } finally {
      await client.close();
    }
    say(
      `map archive ${stored.addr} (${(stored.size / 1024 / 1024).toFixed(1)} MiB, ${built.tiles} tiles) is in the node's storage`,
    );

    const neighbourCap = await admin.mintTenantCap({
      tenant: NEIGHBOUR_TENANT,
      apps: [MAILBOX_APP_ID],
      ttlSeconds: TENANT_CAP_TTL_S,
    });
    let stormTarget: StormTarget | undefined;
    const issuer = backend.attach({
      tenantCap,
      tenant: VEST_TENANT,
      archive: stored,
      storm: (seconds, signal) =>
        stormVest(stormTarget as StormTarget, { durationMs: seconds * 1000, signal }),
    });
    stormTarget = {
      nodeUrl: oapUrl,
      ca: caPem,
      vestTenant: VEST_TENANT,
      vestStorageCap: issuer.stormStorage(Math.floor(Date.now() / 1000) + TENANT_CAP_TTL_S),
      archiveAddr: stored.addr,
      storageQuotaPerSec: quotas.storageRate,
      neighbourTenant: NEIGHBOUR_TENANT,
      neighbourCap,
      mailboxQuotaPerSec: quotas.mailboxRate,
    };

    pageConfig = (): PageConfig => ({
      wsUrl,
      tenant: `0x${VEST_TENANT.toString(16)}`,
      guestCap: Buffer.from(issuer.guest(Math.floor(Date.now() / 1000) + GUEST_CAP_TTL_S)).toString(
        "base64url",
      ),
    });
    return {
      layout,
      ports: { ...ports, backend: backend.server.port, web: web.port },
      pageUrl: web.url,
      wsUrl,
      oapUrl,
      adminUrl: nodeAdminUrl,
      caPem,
      archive: { ...stored, tiles: built.tiles, buildMs: built.buildMs },
      node,
      backend,
      web,
      tenantCap,
      stormTarget,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Progress of the archive build: one line per zoom level. */
function progressPrinter(say: (line: string) => void): (done: number, total: number, z: number) => void {
  let lastZoom = -1;
  return (_done, _total, z) => {
    if (z === lastZoom) return;
    lastZoom = z;
    say(`  cutting zoom ${z}…`);
  };
}

/** The backend's and the page server's JSON log lines, to a file (the leak test reads it too). */
function fileLogger(file: string): Logger {
  return pino(
    { level: "info", base: { name: "vest-backend" } },
    pino.destination({ dest: file, append: true, sync: true }),
  );
}
