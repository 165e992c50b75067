import { type TLSSocket, connect as tlsConnect } from "node:tls";
import {
  DEFAULT_MAX_FRAME,
  encodeMeta,
  type HelloReply,
  type HelloRequest,
  isHelloReply,
  isRetryableCode,
  OAP_VERSION,
} from "@omnigate/oap";
import { NO_BUDGET } from "./call-scope.js";
import { Connection, type ConnectionHooks } from "./connection.js";
import { OapClientError, OapConnectionError } from "./errors.js";
import { Exchange } from "./exchange.js";
import type { Logger } from "./logger.js";
import { isUntrustedError, type TrustSettings, verifyPinnedPeer } from "./trust.js";
import type { NodeAddress } from "./url.js";

export const ALPN_PROTOCOL = "oap/1";
export const CLIENT_ID = "omnigate-sdk-ts/0.1.0";
/** The smallest max_frame a node may announce: room for a header, a capability and some meta. */
export const MIN_MAX_FRAME = 4096;

export interface DialSettings {
  address: NodeAddress;
  trust: TrustSettings;
  connectTimeoutMs: number;
  tenant: bigint;
  /** The capability to bind to each new connection in its HELLO (read at every dial: it may be refreshed). */
  helloCap?: () => Uint8Array | undefined;
  maxBufferedBytes: number;
  /** See ConnectionSettings.unreadGraceMs: the client's defaultDeadlineMs. */
  unreadGraceMs: number;
  logger: Logger;
  hooks: ConnectionHooks;
}

/** Opens a connection ready for requests: TCP, TLS 1.3 with ALPN oap/1, trust checks, HELLO. */
export async function dial(settings: DialSettings): Promise<Connection> {
  const { host, port } = settings.address;
  const socket = tlsConnect({
    host,
    port,
    ...settings.trust.tls,
    ALPNProtocols: [ALPN_PROTOCOL],
    minVersion: "TLSv1.3",
  });
  let connection: Connection | undefined;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(
        new OapConnectionError(
          `no HELLO from ${host}:${port} within connectTimeoutMs=${settings.connectTimeoutMs}`,
          { reason: "connect_timeout" },
        ),
      );
    }, settings.connectTimeoutMs);
  });
  const attempt = (async () => {
    await secured(socket, settings);
    connection = new Connection(socket, settings.hooks, settings.logger, {
      maxBufferedBytes: settings.maxBufferedBytes,
      unreadGraceMs: settings.unreadGraceMs,
    });
    const cap = settings.helloCap?.();
    const reply = await hello(connection, settings.tenant, cap);
    connection.setHello(reply);
    if (reply.cap?.bound) connection.boundCap = cap;
    return connection;
  })();
  // After a timeout the attempt still settles (with the destroyed socket's error); nobody waits for it.
  attempt.catch(() => {});
  try {
    return await Promise.race([attempt, timedOut]);
  } catch (error) {
    // Whatever went wrong, the call that needed this connection sent nothing: a connection error.
    const failure = toConnectionError(error);
    if (connection) connection.destroy(failure);
    else socket.destroy();
    throw failure;
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves once the handshake is done and the peer passed the pin and ALPN checks. */
function secured(socket: TLSSocket, settings: DialSettings): Promise<void> {
  const { host, port } = settings.address;
  return new Promise((resolve, reject) => {
    const fail = (error: OapConnectionError) => {
      socket.off("secureConnect", onSecure);
      socket.off("error", onError);
      socket.off("close", onClose);
      // A late error from the torn-down socket has nobody left to tell.
      socket.on("error", () => {});
      socket.destroy();
      reject(error);
    };
    const onError = (error: Error) => fail(connectError(error, host, port));
    const onClose = () =>
      fail(
        new OapConnectionError(`${host}:${port} closed the connection during the TLS handshake`, {
          reason: "connect_failed",
        }),
      );
    const onSecure = () => {
      const pin = settings.trust.pin;
      const pinFailure = pin === undefined ? undefined : verifyPinnedPeer(socket, pin);
      if (pinFailure) {
        fail(connectError(pinFailure, host, port));
        return;
      }
      if (socket.alpnProtocol && socket.alpnProtocol !== ALPN_PROTOCOL) {
        fail(
          new OapConnectionError(
            `${host}:${port} negotiated ALPN "${socket.alpnProtocol}", not ${ALPN_PROTOCOL}; is this an Omnigate node?`,
            { reason: "connect_failed", retryable: false },
          ),
        );
        return;
      }
      socket.off("error", onError);
      socket.off("close", onClose);
      socket.setNoDelay(true);
      resolve();
    };
    socket.once("secureConnect", onSecure);
    socket.once("error", onError);
    socket.once("close", onClose);
  });
}

async function hello(
  connection: Connection,
  tenant: bigint,
  cap: Uint8Array | undefined,
): Promise<HelloReply> {
  const request: HelloRequest = { versions: [OAP_VERSION], client: CLIENT_ID };
  const exchange = new Exchange(
    // A capability sent with HELLO becomes the connection's default on the node.
    { appProtoId: 0, tenantId: tenant, cap, e2e: false },
    encodeMeta({ ...request }),
    NO_BUDGET,
    false,
  );
  connection.open(exchange);
  let head: Awaited<typeof exchange.head>;
  try {
    await exchange.send(new Uint8Array(0), true);
    head = await exchange.head;
  } catch (error) {
    throw helloRefused(error);
  }
  // HELLO carries everything in meta; a body, if any, is dropped.
  exchange.body.discard();
  return checkHello(head.meta);
}

/** The node's HELLO reply, checked: the client sizes frames and slots by it. */
export function checkHello(meta: unknown): HelloReply {
  const bad = (message: string) =>
    new OapConnectionError(`bad HELLO reply: ${message}`, { reason: "bad_hello", retryable: false });
  if (!isHelloReply(meta)) {
    throw bad("it lacks versions, max_frame, max_inflight or flags_supported");
  }
  if (!meta.versions.includes(OAP_VERSION)) {
    throw new OapConnectionError(
      `the node speaks OAP versions ${meta.versions.join(", ")}; this SDK speaks ${OAP_VERSION}`,
      { reason: "bad_hello", retryable: false },
    );
  }
  const { max_frame: maxFrame, max_inflight: maxInflight } = meta;
  if (!Number.isInteger(maxFrame) || maxFrame < MIN_MAX_FRAME || maxFrame > DEFAULT_MAX_FRAME) {
    throw bad(`max_frame ${maxFrame} is not an integer in ${MIN_MAX_FRAME}..${DEFAULT_MAX_FRAME}`);
  }
  if (!Number.isInteger(maxInflight) || maxInflight < 1) {
    throw bad(`max_inflight ${maxInflight} is not an integer ≥ 1`);
  }
  return meta;
}

/**
 * A failed HELLO as an OapConnectionError. When the node answered with an error, it keeps the
 * node's code, reason, message and retry_after_ms, and is retryable exactly for 429 and 503:
 * it must never look like the answer to the caller's own request, which was not sent.
 */
function helloRefused(error: unknown): unknown {
  if (error instanceof OapConnectionError || !(error instanceof OapClientError)) return error;
  return new OapConnectionError(
    `the node refused the HELLO: ${error.message} (${error.code} ${error.reason})`,
    {
      code: error.code,
      reason: error.reason,
      retryable: isRetryableCode(error.code),
      retryAfterMs: error.retryAfterMs,
      cause: error,
    },
  );
}

function connectError(error: Error, host: string, port: number): OapConnectionError {
  if (isUntrustedError(error)) {
    return new OapConnectionError(
      `the TLS certificate of ${host}:${port} is not trusted (${error.message}); pass the node's CA as ca/caFile, pin it with fingerprint, or use insecure: true in development`,
      { reason: "tls_untrusted", retryable: false, cause: error },
    );
  }
  const code = (error as NodeJS.ErrnoException).code;
  // A TLS protocol failure (version, ALPN, alert) will not change on retry; a refused or reset socket may.
  const retryable = !(typeof code === "string" && code.startsWith("ERR_SSL_"));
  return new OapConnectionError(`cannot connect to ${host}:${port}: ${error.message}`, {
    reason: "connect_failed",
    retryable,
    cause: error,
  });
}

function toConnectionError(error: unknown): OapConnectionError {
  if (error instanceof OapConnectionError) return error;
  const message = error instanceof Error ? `the HELLO failed: ${error.message}` : "the HELLO failed";
  return new OapConnectionError(message, { reason: "connect_failed", cause: error });
}
