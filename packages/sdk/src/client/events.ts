import {
  copyBytes,
  decodeStartPayload,
  Flags,
  type Frame,
  type HelloReply,
  type Meta,
} from "@omnigate/oap/internal";
import type { OapConnectionError } from "./errors.js";

/**
 * An EVENT frame pushed by the node: on the control app (app_proto_id 0) to the client's
 * `event` listeners, or under a stream's corr_id to that stream's `onEvent` (e.g. the
 * messages of a mailbox subscription).
 */
export interface OapEvent {
  /** The app the event belongs to (0: the node's control app). */
  appProtoId: number;
  /** The tenant the event is for. */
  tenantId: bigint;
  /** What the pushing service means by it: a subscription's corr_id, 0 for the node's control events. */
  corrId: bigint;
  /** Meta of a START event frame; empty otherwise. */
  meta: Meta;
  /** The event's payload (a copy the app may keep). */
  body: Buffer;
  /** The node asked for an acknowledgement (ACK_REQ). */
  ackRequested: boolean;
  /** APP_E2E: the body is end-to-end encrypted by the app. */
  e2e: boolean;
}

/** An EVENT frame as an OapEvent; a START payload that does not decode is handed over raw. */
export function eventFromFrame(frame: Frame): OapEvent {
  let meta: Meta = {};
  let body: Uint8Array = frame.payload;
  if (frame.flags & Flags.START) {
    try {
      ({ meta, body } = decodeStartPayload(frame.payload));
    } catch {
      // Not START layout after all: hand over the raw payload.
    }
  }
  return {
    appProtoId: frame.appProtoId,
    tenantId: frame.tenantId,
    corrId: frame.corrId,
    meta,
    // A copy: a view would pin the whole received chunk for as long as the app keeps the event.
    body: copyBytes(body),
    ackRequested: (frame.flags & Flags.ACK_REQ) !== 0,
    e2e: (frame.flags & Flags.APP_E2E) !== 0,
  };
}

/** The client's events and their listeners' signatures, for `client.on()` and `client.off()`. */
export interface ClientEvents {
  /** A control EVENT frame arrived. */
  event: (event: OapEvent) => void;
  /** A connection (first or re-established) finished its HELLO. */
  connect: (hello: HelloReply) => void;
  /** The connection was lost; the next call reconnects. */
  disconnect: (error: OapConnectionError) => void;
}

/** A name `client.on()` takes: `event`, `connect` or `disconnect`. */
export type ClientEventName = keyof ClientEvents;

/** A small typed listener set; a throwing listener is reported to `onListenerError`, never to the socket. */
export class Listeners {
  private readonly sets: { [K in ClientEventName]: Set<ClientEvents[K]> } = {
    event: new Set(),
    connect: new Set(),
    disconnect: new Set(),
  };

  constructor(private readonly onListenerError: (error: unknown, name: ClientEventName) => void) {}

  on<K extends ClientEventName>(name: K, listener: ClientEvents[K]): void {
    this.sets[name].add(listener);
  }

  off<K extends ClientEventName>(name: K, listener: ClientEvents[K]): void {
    this.sets[name].delete(listener);
  }

  emit<K extends ClientEventName>(name: K, ...args: Parameters<ClientEvents[K]>): void {
    for (const listener of [...this.sets[name]]) {
      try {
        (listener as (...a: Parameters<ClientEvents[K]>) => void)(...args);
      } catch (error) {
        this.onListenerError(error, name);
      }
    }
  }
}
