import {
  AppProtoId,
  FLAGS_SUPPORTED,
  formatAppProtoId,
  type HelloReply,
  MAX_META_LEN,
  type Meta,
  OAP_VERSION,
  OapError,
} from "@omnigate/oap";
import { type Logger, SILENT_LOGGER } from "../logger.js";
import { OapListener } from "./listener.js";
import { DEFAULT_SESSION_LIMITS, type SessionHandler, type SessionLimits } from "./session.js";
import { traceSessions } from "./trace-sessions.js";
import type { IncomingRequest, ResponseWriter } from "./types.js";

/** What a handler may return instead of writing through `res`: one reply, whole or streamed. */
export interface AppReply {
  /** Status, 200 by default (codes ≥ 400 are for errors: throw an OapError instead). */
  code?: number;
  /** The response's meta map. */
  meta?: Meta;
  /** The whole body, or a stream of chunks sent as they come (with backpressure). */
  body?: Uint8Array | string | AsyncIterable<Uint8Array>;
  /** Mark the response body APP_E2E (end-to-end encrypted by the app). */
  e2e?: boolean;
}

/**
 * Handles one request for the app. Either answer through `res` (reply, or start/write/end for
 * a stream) or return an AppReply. A thrown OapError becomes an error frame with its code and
 * reason; anything else thrown becomes 500 `internal` (its message is not sent).
 */
export type AppHandler = (
  req: IncomingRequest,
  res: ResponseWriter,
  // biome-ignore lint/suspicious/noConfusingVoidType: an async handler that answers through res, and sometimes returns a reply, has this type.
) => AppReply | undefined | void | Promise<AppReply | undefined | void>;

/** What serve() listens as and with: the app id, TLS material, handler, address and limits. */
export interface ServeOptions {
  /** The app_proto_id this backend serves; requests for any other id get 404 `unknown_app`. */
  appId: number;
  /** Name reported in the HELLO reply (default `app-0x<id>`). */
  name?: string;
  /** PEM certificate chain and private key the backend presents. */
  tls: {
    /** PEM certificate chain, leaf first. */
    cert: string | Buffer;
    /** PEM private key of the leaf certificate. */
    key: string | Buffer;
  };
  /** Answers each request routed to this app. */
  handler: AppHandler;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: the OS picks a free port (see `port` on the result). */
  port?: number;
  /** Per-connection limits; the same defaults as the node (max_inflight 256, 1 MiB frames, …). */
  limits?: Partial<SessionLimits>;
  /** Time a peer has to finish the TLS handshake, ms (default 10000). */
  handshakeTimeoutMs?: number;
  /** Where handler failures and TLS handshake errors are logged (default: nowhere). */
  logger?: Logger;
}

/** A running app backend, as serve() resolves to it: its address and how to stop it. */
export interface AppServer {
  /** oap+tls://host:port, with the real port when 0 was asked. */
  readonly url: string;
  /** The address listened on. */
  readonly host: string;
  /** The port listened on (the one the OS picked when 0 was asked). */
  readonly port: number;
  /** Streams open across all connections. */
  openStreams(): number;
  /** Destroys every connection at once (what a crash looks like to peers). */
  destroyConnections(): void;
  /**
   * Stops accepting, lets open streams finish within `drainTimeoutMs` (new ones get 503
   * `shutting_down`), then closes every connection.
   */
  close(drainTimeoutMs?: number): Promise<void>;
}

const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;
const DEFAULT_DRAIN_TIMEOUT_MS = 10_000;

/**
 * Runs an app backend: an OAP/1-over-TLS server for one app_proto_id, on the same listener,
 * session, stream rules and limits as the node. It answers HELLO on 0x0000 (the node's
 * upstream connections need it) and routes everything else for `appId` to `handler`.
 */
export async function serve(options: ServeOptions): Promise<AppServer> {
  const { appId, handler } = options;
  if (!Number.isInteger(appId) || appId <= AppProtoId.CONTROL || appId > 0xffff) {
    throw new RangeError(`appId must be an integer in 0x0001..0xFFFF, got ${appId}`);
  }
  const limits: SessionLimits = { ...DEFAULT_SESSION_LIMITS, ...options.limits };
  const name = options.name ?? `app-${formatAppProtoId(appId)}`;
  const log = options.logger ?? SILENT_LOGGER;
  const hello = helloReply(appId, name, limits);

  const untraced: SessionHandler = {
    dispatch(req, res) {
      if (req.appProtoId === appId) return runHandler(handler, req, res);
      if (req.appProtoId === AppProtoId.CONTROL) return res.reply(200, hello as unknown as Meta);
      throw new OapError("unknown_app", `this backend serves app_proto_id ${formatAppProtoId(appId)} only`);
    },
    serviceError(err, req) {
      log.warn({ err, corr_id: String(req.corrId), app: req.appProtoId, peer: req.peer }, "handler failed");
    },
  };
  // A SERVER span per request of the app (not the node's HELLO), parented by meta's traceparent;
  // the handler runs in its context, so spans the handler makes are its children.
  const session = traceSessions(untraced, {
    tracer: "@omnigate/sdk",
    spanName: "omnigate.backend",
    traces: (req) => req.appProtoId === appId,
  });
  const host = options.host ?? "127.0.0.1";
  const listener = new OapListener({
    host,
    port: options.port ?? 0,
    cert: String(options.tls.cert),
    key: String(options.tls.key),
    handshakeTimeoutMs: options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
    limits,
    handler: session,
    log,
  });
  const bound = await listener.listen();
  const urlHost = bound.address.includes(":") ? `[${bound.address}]` : bound.address;
  let closing: Promise<void> | undefined;
  return {
    url: `oap+tls://${urlHost}:${bound.port}`,
    host: bound.address,
    port: bound.port,
    openStreams: () => listener.openStreams(),
    destroyConnections: () => listener.destroyAll(),
    close(drainTimeoutMs = DEFAULT_DRAIN_TIMEOUT_MS) {
      closing ??= listener.close(drainTimeoutMs);
      return closing;
    },
  };
}

/** Runs the handler; a returned AppReply is sent unless the handler already answered through `res`. */
function runHandler(handler: AppHandler, req: IncomingRequest, res: ResponseWriter): void | Promise<void> {
  const result = handler(req, res);
  if (result && typeof (result as Promise<unknown>).then === "function") {
    return (result as Promise<AppReply | undefined>).then((reply) => sendReply(reply, res));
  }
  return sendReply(result as AppReply | undefined, res);
}

function sendReply(reply: AppReply | undefined, res: ResponseWriter): void | Promise<void> {
  if (!reply || res.started || res.ended) return;
  const code = reply.code ?? 200;
  const options = reply.e2e ? { e2e: true } : undefined;
  const body = reply.body;
  if (body === undefined || typeof body === "string" || body instanceof Uint8Array) {
    return res.reply(code, reply.meta, typeof body === "string" ? Buffer.from(body) : body, options);
  }
  return streamReply(code, reply.meta, body, res, options);
}

async function streamReply(
  code: number,
  meta: Meta | undefined,
  body: AsyncIterable<Uint8Array>,
  res: ResponseWriter,
  options: { e2e: boolean } | undefined,
): Promise<void> {
  await res.start(code, meta, undefined, options);
  for await (const chunk of body) {
    if (res.ended) return; // failed meanwhile (deadline, connection gone): stop producing
    await res.write(chunk);
  }
  res.end();
}

function helloReply(appId: number, name: string, limits: SessionLimits): HelloReply {
  return {
    versions: [OAP_VERSION],
    max_frame: limits.maxFrame,
    max_inflight: limits.maxInflight,
    flags_supported: FLAGS_SUPPORTED,
    transports: ["tls"],
    node_id: name,
    rev_seq: 0,
    services: [
      { app_proto_id: AppProtoId.CONTROL, name: "control" },
      { app_proto_id: appId, name },
    ],
    limits: {
      max_cap_len: limits.maxCapLen,
      max_meta_len: MAX_META_LEN,
      default_deadline_ms: limits.defaultDeadlineMs,
    },
  };
}
