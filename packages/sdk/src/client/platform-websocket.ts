/**
 * The platform WebSocket (a browser's, or Node 22's global), as much of it as the browser
 * transport uses. Declared here because this build's lib has no DOM types.
 */
export interface PlatformWebSocket {
  /** How binary messages arrive; the transport sets "arraybuffer". */
  binaryType: string;
  /** The subprotocol the server chose; the transport requires `oap.1`. */
  readonly protocol: string;
  /** 0 connecting, 1 open, 2 closing, 3 closed. */
  readonly readyState: number;
  /** Bytes handed to send() and not yet sent: the only backpressure signal a WebSocket gives. */
  readonly bufferedAmount: number;
  /** Queues one binary message (one or more OAP/1 frames). */
  send(data: Uint8Array): void;
  /** Closes the socket with an optional close code and reason. */
  close(code?: number, reason?: string): void;
  /** Listens for one of the events the transport uses. */
  addEventListener(type: WebSocketEventType, listener: (event: WebSocketEventLike) => void): void;
  /** Removes a listener added with addEventListener(). */
  removeEventListener(type: WebSocketEventType, listener: (event: WebSocketEventLike) => void): void;
}

/** The WebSocket events the transport listens for. */
export type WebSocketEventType = "open" | "message" | "error" | "close";

/** The fields of MessageEvent and CloseEvent the transport reads (every event has a type). */
export interface WebSocketEventLike {
  /** The event's name (see WebSocketEventType). */
  readonly type: string;
  /** A message event's payload (an ArrayBuffer once binaryType is "arraybuffer"). */
  readonly data?: unknown;
  /** A close event's close code. */
  readonly code?: number;
  /** A close event's reason text. */
  readonly reason?: string;
}

/**
 * A WebSocket class: the page's `WebSocket`, or one to pass as BrowserConnectOptions'
 * `WebSocket` where there is no global one (e.g. the `ws` package in Node tests).
 */
export type PlatformWebSocketConstructor = new (
  url: string,
  protocols?: string | string[],
) => PlatformWebSocket;

/** WebSocket.OPEN. */
export const WEBSOCKET_OPEN = 1;
