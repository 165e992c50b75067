import { mkdir } from "node:fs/promises";
import type { Service, SessionHandler } from "@omnigate/sdk";
import { AdminServer, type Readiness } from "./admin/server.js";
import { type AdmissionSnapshot, createAdmission } from "./admission/index.js";
import { type ConfigKey, loadConfig, type NodeConfig, parseAddress } from "./config/index.js";
import { GatewayListener } from "./gateway/listener.js";
import { Router } from "./gateway/router.js";
import { createLogger, type Logger } from "./log.js";
import { loadNodeId } from "./node-id.js";
import { EchoService } from "./services/echo.js";
import { HelloService } from "./services/hello.js";
import { loadTlsMaterial, type TlsMaterial } from "./tls/dev-certs.js";

export interface StartOptions {
  /** Settings that win over env and file (what flags do on the command line). */
  overrides?: Partial<NodeConfig>;
  /** TOML config file. */
  configFile?: string;
  env?: NodeJS.ProcessEnv;
  /** Extra services to route, e.g. a private-range test service. */
  services?: Service[];
  logger?: Logger;
  logLevel?: string;
}

export interface OmnigateNode {
  readonly config: NodeConfig;
  readonly log: Logger;
  /** oap+tls://host:port of the OAP listener (with the real port when 0 was asked). */
  readonly oapUrl: string;
  /** http://host:port of the admin server. */
  readonly adminUrl: string;
  readonly tls: TlsMaterial;
  /** PEM of the dev CA that signed the server certificate (undefined with a configured cert). */
  readonly caPem: string | undefined;
  readonly caFingerprint: string | undefined;
  readiness(): Readiness;
  /** Admission figures now: connections, in-flight, buffered bytes, refusals by stage. */
  admission(): AdmissionSnapshot;
  /** Destroys every client connection at once. */
  dropConnections(): void;
  /** Graceful stop: refuse new streams, finish open ones (bounded by drain_timeout_ms), close. */
  close(): Promise<void>;
}

export async function startNode(options: StartOptions = {}): Promise<OmnigateNode> {
  const flags = options.overrides as Partial<Record<ConfigKey, string | number>> | undefined;
  const loaded = loadConfig({ file: options.configFile, env: options.env, flags });
  const log = options.logger ?? createLogger(options.logLevel ?? loaded.logLevel);
  await mkdir(loaded.dataDir, { recursive: true });
  const config: NodeConfig = { ...loaded, nodeId: loaded.nodeId || (await loadNodeId(loaded.dataDir)) };
  const tls = await loadTlsMaterial({ dataDir: config.dataDir, cert: config.tlsCert, key: config.tlsKey });

  const router = new Router();
  router.register(new HelloService(config, router));
  router.register(new EchoService());
  for (const service of options.services ?? []) router.register(service);

  const admission = await createAdmission(config, log);
  let state: "starting" | "serving" | "draining" = "starting";
  const handler: SessionHandler = {
    dispatch: admission.guard((req, res) => router.dispatch(req, res)),
    streamEnded: (info) => admission.chain.release(info),
    bodyReceived: (target, bytes) => admission.chain.bodyReceived(target, bytes),
    rejected: (error, target) => {
      const entry = {
        reason: error.reason,
        code: error.code,
        corr_id: String(target.corrId),
        app: target.appProtoId,
      };
      if (error.fatal) log.warn(entry, error.message);
      else log.debug(entry, error.message);
    },
    serviceError: (err, req) => {
      log.error({ err, corr_id: String(req.corrId), app: req.appProtoId, peer: req.peer }, "service failed");
    },
  };

  const oap = parseAddress(config.listen, "listen");
  const gateway = new GatewayListener({
    host: oap.host,
    port: oap.port,
    cert: tls.cert,
    key: tls.key,
    handshakeTimeoutMs: config.handshakeTimeoutMs,
    limits: {
      maxFrame: config.maxFrame,
      maxInflight: config.maxInflight,
      maxCapLen: config.maxCapLen,
      readBufferBytes: config.readBufferBytes,
      writeBufferBytes: config.writeBufferBytes,
      defaultDeadlineMs: config.defaultDeadlineMs,
      maxDeadlineMs: config.maxDeadlineMs,
      firstHeaderTimeoutMs: config.firstHeaderTimeoutMs,
      frameTimeoutMs: config.frameTimeoutMs,
      idleTimeoutMs: config.idleTimeoutMs,
      writeStallTimeoutMs: config.writeStallTimeoutMs,
    },
    handler,
    log,
    connectionLimit: admission.chain.connections,
    onSweep: (bufferedBytes) => admission.chain.setBufferedBytes(bufferedBytes),
  });
  const readiness = (): Readiness => {
    if (state !== "serving") return { ready: false, waitingFor: [state] };
    const load = admission.chain.snapshot();
    return { ready: load.ready, waitingFor: load.not_ready_because, load };
  };
  const admin = new AdminServer(readiness);

  const adminAddr = parseAddress(config.admin, "admin");
  const [oapBound, adminBound] = await Promise.allSettled([
    gateway.listen(),
    admin.listen(adminAddr.host, adminAddr.port),
  ]);
  if (oapBound.status === "rejected" || adminBound.status === "rejected") {
    // Leave nothing listening behind a failed start.
    await Promise.all([gateway.close(0), admin.close(), admission.close()]);
    throw oapBound.status === "rejected" ? oapBound.reason : (adminBound as PromiseRejectedResult).reason;
  }
  state = "serving";
  const oapUrl = `oap+tls://${urlHost(oapBound.value.address)}:${oapBound.value.port}`;
  const adminUrl = `http://${urlHost(adminBound.value.address)}:${adminBound.value.port}`;
  log.info({ oap: oapUrl, admin: adminUrl, node_id: config.nodeId, data_dir: config.dataDir }, "node ready");

  let closing: Promise<void> | undefined;
  return {
    config,
    log,
    oapUrl,
    adminUrl,
    tls,
    caPem: tls.caPem,
    caFingerprint: tls.caFingerprint,
    readiness,
    admission: () => admission.chain.snapshot(),
    dropConnections: () => gateway.destroyAll(),
    close() {
      closing ??= (async () => {
        state = "draining";
        log.info({ open_streams: gateway.openStreams() }, "draining");
        await gateway.close(config.drainTimeoutMs);
        await admin.close();
        await admission.close();
        log.info("stopped");
      })();
      return closing;
    },
  };
}

function urlHost(address: string): string {
  return address.includes(":") ? `[${address}]` : address;
}
