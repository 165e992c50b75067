import {
  DEFAULT_MAX_FRAME,
  encodeMeta,
  type HelloReply,
  type HelloRequest,
  type HelloShaping,
  isHelloReply,
  isRetryableCode,
  OAP_VERSION,
} from "@omnigate/oap";
import type { Logger } from "../logger.js";
import { NO_BUDGET } from "./call-scope.js";
import { Connection, type ConnectionHooks } from "./connection.js";
import { OapClientError, OapConnectionError } from "./errors.js";
import { Exchange } from "./exchange.js";
import { grantedShaping } from "./shaping.js";
import type { TransportOpener } from "./transport.js";

export const CLIENT_ID = "omnigate-sdk-ts/0.1.0";
/** The smallest max_frame a node may announce: room for a header, a capability and some meta. */
export const MIN_MAX_FRAME = 4096;

export interface DialSettings {
  /** Opens the transport (TCP and TLS, or a WebSocket upgrade) with its trust checks done. */
  open: TransportOpener;
  /** The node as named in messages: host:port. */
  target: string;
  connectTimeoutMs: number;
  tenant: bigint;
  /** The capability to bind to each new connection in its HELLO (read at every dial: it may be refreshed). */
  helloCap?: () => Uint8Array | undefined;
  /** Traffic shaping to ask for in HELLO (over TLS only) and apply once granted. */
  shaping?: HelloShaping;
  maxBufferedBytes: number;
  /** See ConnectionSettings.unreadGraceMs: the client's defaultDeadlineMs. */
  unreadGraceMs: number;
  logger: Logger;
  hooks: ConnectionHooks;
}

/** Opens a connection ready for requests: the transport (with its trust checks), then HELLO. */
export async function dial(settings: DialSettings): Promise<Connection> {
  const giveUp = new AbortController();
  let connection: Connection | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(
        new OapConnectionError(
          `no HELLO from ${settings.target} within connectTimeoutMs=${settings.connectTimeoutMs}`,
          { reason: "connect_timeout" },
        ),
      );
    }, settings.connectTimeoutMs);
  });
  const attempt = (async () => {
    const transport = await settings.open(giveUp.signal);
    if (giveUp.signal.aborted) {
      // The dial gave up while the transport was completing: nobody will use it.
      transport.destroy();
      throw giveUp.signal.reason;
    }
    connection = new Connection(transport, settings.hooks, settings.logger, {
      maxBufferedBytes: settings.maxBufferedBytes,
      unreadGraceMs: settings.unreadGraceMs,
    });
    const cap = settings.helloCap?.();
    // Over WebSocket each frame is its own message: there is no byte stream to shape.
    const shaping = connection.canShape ? settings.shaping : undefined;
    const reply = await hello(connection, settings.tenant, cap, shaping);
    connection.setHello(reply);
    if (reply.cap?.bound) connection.boundCap = cap;
    const granted = shaping && grantedShaping(shaping, reply);
    if (granted) connection.applyShaping(granted);
    return connection;
  })();
  // After a timeout the attempt still settles (with the destroyed transport's error); nobody waits for it.
  attempt.catch(() => {});
  try {
    return await Promise.race([attempt, timedOut]);
  } catch (error) {
    // Whatever went wrong, the call that needed this connection sent nothing: a connection error.
    const failure = toConnectionError(error);
    if (connection) connection.destroy(failure);
    giveUp.abort(failure);
    throw failure;
  } finally {
    clearTimeout(timer);
  }
}

async function hello(
  connection: Connection,
  tenant: bigint,
  cap: Uint8Array | undefined,
  shaping: HelloShaping | undefined,
): Promise<HelloReply> {
  const request: HelloRequest = {
    versions: [OAP_VERSION],
    client: CLIENT_ID,
    ...(shaping ? { shaping } : {}),
  };
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

function toConnectionError(error: unknown): OapConnectionError {
  if (error instanceof OapConnectionError) return error;
  const message = error instanceof Error ? `the HELLO failed: ${error.message}` : "the HELLO failed";
  return new OapConnectionError(message, { reason: "connect_failed", cause: error });
}
