/**
 * The platform WebSocket (a browser's, or Node 22's global), as much of it as the browser
 * transport uses. Declared here because this build's lib has no DOM types.
 */
export interface PlatformWebSocket {
  binaryType: string;
  readonly protocol: string;
  readonly readyState: number;
  /** Bytes handed to send() and not yet sent: the only backpressure signal a WebSocket gives. */
  readonly bufferedAmount: number;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: WebSocketEventType, listener: (event: WebSocketEventLike) => void): void;
  removeEventListener(type: WebSocketEventType, listener: (event: WebSocketEventLike) => void): void;
}

export type WebSocketEventType = "open" | "message" | "error" | "close";

/** The fields of MessageEvent and CloseEvent the transport reads (every event has a type). */
export interface WebSocketEventLike {
  readonly type: string;
  readonly data?: unknown;
  readonly code?: number;
  readonly reason?: string;
}

export type PlatformWebSocketConstructor = new (
  url: string,
  protocols?: string | string[],
) => PlatformWebSocket;

/** WebSocket.OPEN. */
export const WEBSOCKET_OPEN = 1;
