import { mkdir } from "node:fs/promises";
import {
  type IncomingRequest,
  OapListener,
  parseOriginPolicy,
  type ResponseWriter,
  type SessionHandler,
  type TransportKind,
  traceSessions,
  WsListener,
} from "@omnigate/sdk/internal";
import { CapsApi } from "./admin/caps-api.js";
import { observabilityRoutes } from "./admin/observability-routes.js";
import { createNodePrivacy } from "./admin/privacy-dashboard.js";
import { RecentEvents } from "./admin/recent-events.js";
import { AdminServer, type Readiness } from "./admin/server.js";
import { type AdmissionSnapshot, createAdmission } from "./admission/index.js";
import { AppPlane } from "./apps/app-plane.js";
import type { AppStatsSnapshot } from "./apps/app-stats.js";
import type { Authority } from "./auth/authority.js";
import { CapabilityStage } from "./auth/capability-stage.js";
import { type AuthSummary, startNodeAuth } from "./auth/node-auth.js";
import {
  type AppInput,
  type ConfigKey,
  type ConfigValues,
  loadConfig,
  type NodeConfig,
  parseAddress,
} from "./config/index.js";
import { sessionLimits } from "./config/session-limits.js";
import { createNodeDht, type NodeDht } from "./dht/index.js";
import { Router } from "./gateway/router.js";
import { KernelBus } from "./kernel/bus.js";
import type { ManagedService } from "./kernel/lifecycle.js";
import { type ServiceHealth, Supervisor } from "./kernel/supervisor.js";
import { createNodeLedger, type NodeLedger } from "./ledger/index.js";
import { createLogger, type Logger } from "./log.js";
import { MailboxMetrics } from "./mailbox/metrics.js";
import { MailboxService } from "./mailbox/service.js";
import { NodeMetrics, observeSessions } from "./metrics/index.js";
import { loadNodeId } from "./node-id.js";
import { EchoService } from "./services/echo.js";
import { HelloService } from "./services/hello.js";
import { createStorageService, type StorageService } from "./storage/index.js";
import { loadTlsMaterial, type TlsMaterial } from "./tls/dev-certs.js";
import { NODE_TRACER } from "./tracing/spans.js";
import { VERSION } from "./version.js";

/** Kernel events the status page keeps. */
const STATUS_EVENTS_KEPT = 20;

export interface StartOptions {
  /** Settings from code, typed (`{ maxInflight: 64 }`): checked like any other source, and they win over all, flags included. */
  overrides?: Partial<ConfigValues>;
  /** Raw values as the command line gives them (`--max-inflight 64` → `{ maxInflight: "64" }`); they win over env and file. */
  flags?: Partial<Record<ConfigKey, string>>;
  /** TOML config file. */
  configFile?: string;
  env?: NodeJS.ProcessEnv;
  /** Extra services to route and supervise, e.g. a private-range test service. */
  services?: ManagedService[];
  /** App backends to route besides the config file's `[[apps]]` (checked the same way). */
  apps?: AppInput[];
  logger?: Logger;
  logLevel?: NodeConfig["logLevel"];
}

export interface OmnigateNode {
  readonly config: NodeConfig;
  readonly log: Logger;
  /** oap+tls://host:port of the OAP listener (with the real port when 0 was asked). */
  readonly oapUrl: string;
  /** wss://host:port/oap of the WebSocket listener; undefined when `ws.listen` is empty. */
  readonly wsUrl: string | undefined;
  /** http://host:port of the admin server. */
  readonly adminUrl: string;
  readonly tls: TlsMaterial;
  /** PEM of the dev CA that signed the server certificate (undefined with a configured cert). */
  readonly caPem: string | undefined;
  readonly caFingerprint: string | undefined;
  readiness(): Readiness;
  /** The golden metrics (also served on the admin port at /metrics). */
  readonly metrics: NodeMetrics;
  /** The kernel bus: Health, ConfigUpdated, ServiceCrashed, Shutdown. */
  readonly bus: KernelBus;
  /** Each supervised service's state, restarts and recent crashes. */
  services(): ServiceHealth[];
  /** Admission figures now: connections, in-flight, buffered bytes, refusals by stage. */
  admission(): AdmissionSnapshot;
  /** Destroys every client connection at once. */
  dropConnections(): void;
  /** Capability mode, the dev capability and where the admin API token is (for the start banner). */
  readonly auth: AuthSummary;
  /** Root keys, revocations and the verifier (what the admin API drives). */
  readonly authority: Authority;
  /** Counters of each routed app backend (requests, 502/504s, bytes held for slow clients). */
  appStats(): AppStatsSnapshot[];
  /** The storage service on 0x0301 and its engine. */
  readonly storage: StorageService;
  /** The DHT (dht.mode = on): the node-to-node service and, once joined, the Kademlia core. */
  readonly dht: NodeDht | undefined;
  /** Usage accounting (ledger.records = on): the settlement key id and the records' dir. */
  readonly ledger: Pick<NodeLedger, "nodeId" | "dir"> | undefined;
  /** Graceful stop: refuse new streams, finish open ones (bounded by drain_timeout_ms), close. */
  close(): Promise<void>;
}

export async function startNode(options: StartOptions = {}): Promise<OmnigateNode> {
  const { apps, ...loaded } = loadConfig({
    file: options.configFile,
    env: options.env,
    flags: { ...options.flags, ...options.overrides },
    apps: options.apps,
  });
  const log = options.logger ?? createLogger(options.logLevel ?? loaded.logLevel);
  await mkdir(loaded.dataDir, { recursive: true });
  const config: NodeConfig = { ...loaded, nodeId: loaded.nodeId || (await loadNodeId(loaded.dataDir)) };
  const tls = await loadTlsMaterial({ dataDir: config.dataDir, cert: config.tlsCert, key: config.tlsKey });

  const metrics = new NodeMetrics();
  const bus = new KernelBus(config.busCapacity, () => metrics.busOverflowDropped());
  const recentEvents = new RecentEvents(bus, STATUS_EVENTS_KEPT);
  bus.publish({ kind: "ConfigUpdated", version: 1 });
  const supervisor = new Supervisor({
    policy: {
      backoffInitialMs: config.backoffInitialMs,
      backoffMaxMs: config.backoffMaxMs,
      crashLimit: config.crashLimit,
      crashWindowMs: config.crashWindowMs,
      quarantineMs: config.quarantineMs,
      startTimeoutMs: config.serviceStartTimeoutMs,
    },
    bus,
    log,
    onRestart: (service) => metrics.serviceRestarted(service),
  });
  const auth = await startNodeAuth(config, log);
  const router = new Router();
  const mailbox = new MailboxService(config, new MailboxMetrics(metrics.registry));
  const storage = createStorageService(config, metrics.storage, log);
  const dht =
    config.dhtMode === "on" ? await createNodeDht(config, storage, metrics.registry, log) : undefined;
  const ledger = await createNodeLedger(config, metrics.registry, log, (tenant, bytes) =>
    storage.storeForTenant(tenant, bytes),
  );
  const services: ManagedService[] = [
    new HelloService(config, router, auth.authority, metrics.shaping),
    new EchoService(),
    mailbox,
    storage,
    ...(dht ? [dht.service] : []),
    ...(options.services ?? []),
  ];
  for (const service of services) {
    router.register(supervisor.supervise(service));
    metrics.registerApp(service.appProtoId);
    metrics.registerService(service.name);
  }
  const appPlane = await AppPlane.start(apps, router, log);
  for (const app of apps) metrics.registerApp(app.id);
  const privacy = createNodePrivacy(config, log, () => router.list());

  const capabilities = new CapabilityStage(auth.authority, (id) => router.serviceName(id));
  const admission = await createAdmission(config, log, capabilities);
  let state: "starting" | "serving" | "draining" = "starting";
  // Admission guards dispatch and takes streams back when they end; metrics and request logs
  // come from the session hooks around it (see observeSessions).
  // With a tracer provider registered, each request runs under a SERVER span (parented by
  // meta's traceparent) through tracedGuard: admission and dispatch as its child spans.
  const route = (req: IncomingRequest, res: ResponseWriter) => router.dispatch(req, res);
  const traced = admission.tracedGuard(route);
  const handler: SessionHandler = observeSessions(
    traceSessions(
      {
        dispatch: admission.guard(route),
        // Events act only on their connection's own streams (a subscription's credit), which
        // admission already let through.
        event: (event) => router.event(event),
        streamEnded: (info) => {
          admission.chain.release(info);
          ledger?.count(info);
          privacy.count(info);
        },
        bodyReceived: (target, bytes) => admission.chain.bodyReceived(target, bytes),
      },
      { tracer: NODE_TRACER, spanName: "omnigate.request", tracedDispatch: traced },
    ),
    metrics,
    log,
  );

  const limits = sessionLimits(config);
  // Each listener sweeps its own sessions; admission bounds what they buffer together.
  const buffered = { tls: 0, wss: 0 };
  const bufferedBy = (transport: TransportKind) => (bytes: number) => {
    buffered[transport] = bytes;
    admission.chain.setBufferedBytes(buffered.tls + buffered.wss);
  };
  // What both listeners share: certificate, limits, the session handler, the connection gate.
  const common = {
    cert: tls.cert,
    key: tls.key,
    handshakeTimeoutMs: config.handshakeTimeoutMs,
    limits,
    handler,
    log,
    connectionLimit: admission.chain.connections,
  };
  const gateway = new OapListener({
    ...common,
    ...parseAddress(config.listen, "listen"),
    onSweep: bufferedBy("tls"),
  });
  const wsGateway =
    config.wsListen === ""
      ? undefined
      : new WsListener({
          ...common,
          ...parseAddress(config.wsListen, "ws.listen"),
          origins: parseOriginPolicy(config.wsAllowedOrigins),
          onSweep: bufferedBy("wss"),
        });
  metrics.countConnectionsWith(() => ({
    tls: gateway.connectionCount(),
    wss: wsGateway?.connectionCount() ?? 0,
  }));
  const readiness = (): Readiness => {
    if (state !== "serving") return { ready: false, waitingFor: [state] };
    const load = admission.chain.snapshot();
    return { ready: load.ready, waitingFor: load.not_ready_because, load };
  };
  const startedAt = Date.now();
  const admin = new AdminServer(
    readiness,
    {
      ...observabilityRoutes(
        metrics,
        {
          nodeId: config.nodeId,
          version: VERSION,
          startedAt,
          readiness,
          metrics: () => metrics.snapshot(),
          services: () => supervisor.health(),
          events: () => recentEvents.list(),
        },
        config.statusRefreshMs,
      ),
      ...privacy.routes,
    },
    [new CapsApi(auth.authority, auth.adminToken)],
  );

  await supervisor.startAll();

  const adminAddr = parseAddress(config.admin, "admin");
  const [oapBound, wsBound, adminBound] = await Promise.allSettled([
    gateway.listen(),
    wsGateway?.listen(),
    admin.listen(adminAddr.host, adminAddr.port),
  ]);
  if (oapBound.status === "rejected" || wsBound.status === "rejected" || adminBound.status === "rejected") {
    const failed = [oapBound, wsBound, adminBound].find((r) => r.status === "rejected");
    // Leave nothing listening or running behind a failed start.
    await Promise.all([
      gateway.close(0),
      wsGateway?.close(0),
      admin.close(),
      appPlane.close(),
      supervisor.stopAll(),
      admission.close(),
      auth.authority.close(),
      ledger?.close(),
      privacy.close(),
    ]);
    bus.close();
    throw (failed as PromiseRejectedResult).reason;
  }
  state = "serving";
  const oapUrl = `oap+tls://${urlHost(oapBound.value.address)}:${oapBound.value.port}`;
  dht?.join(oapUrl);
  const wsBoundTo = wsBound.value;
  const wsUrl = wsBoundTo && `wss://${urlHost(wsBoundTo.address)}:${wsBoundTo.port}/oap`;
  const adminUrl = `http://${urlHost(adminBound.value.address)}:${adminBound.value.port}`;
  log.info(
    { oap: oapUrl, ws: wsUrl, admin: adminUrl, node_id: config.nodeId, data_dir: config.dataDir },
    "node ready",
  );

  let closing: Promise<void> | undefined;
  return {
    config,
    log,
    oapUrl,
    wsUrl,
    adminUrl,
    tls,
    caPem: tls.caPem,
    caFingerprint: tls.caFingerprint,
    readiness,
    metrics,
    bus,
    services: () => supervisor.health(),
    admission: () => admission.chain.snapshot(),
    dropConnections: () => {
      gateway.destroyAll();
      wsGateway?.destroyAll();
    },
    auth: auth.summary,
    authority: auth.authority,
    appStats: () => appPlane.stats(),
    storage,
    dht,
    ledger: ledger && { nodeId: ledger.nodeId, dir: ledger.dir },
    close() {
      closing ??= (async () => {
        state = "draining";
        bus.publish({ kind: "Shutdown" });
        log.info({ open_streams: gateway.openStreams() + (wsGateway?.openStreams() ?? 0) }, "draining");
        mailbox.drain();
        await Promise.all([gateway.close(config.drainTimeoutMs), wsGateway?.close(config.drainTimeoutMs)]);
        await dht?.close();
        // Every stream has ended: the open period's usage is complete.
        await ledger?.close();
        privacy.close();
        await supervisor.stopAll();
        await Promise.all([admin.close(), appPlane.close(), admission.close(), auth.authority.close()]);
        bus.close();
        await recentEvents.close();
        log.info("stopped");
      })();
      return closing;
    },
  };
}

function urlHost(address: string): string {
  return address.includes(":") ? `[${address}]` : address;
}
