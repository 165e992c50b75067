import {
  encodeMeta,
  Flags,
  type FrameWriter,
  type Meta,
  type ShapingObserver,
  type ShapingSettings,
  ShapingSink,
  type StreamSink,
} from "@omnigate/oap/internal";

/** An EVENT frame a service pushes to the peer (specs/oap-1.md §4.5). */
export interface PushedEvent {
  /** Default 0 (control). */
  appProtoId?: number;
  /** What the service's events mean by it (e.g. a subscription); default 0. */
  corrId?: bigint;
  tenantId?: bigint;
  meta: Meta;
  body?: Uint8Array;
  /** Sets APP_E2E: the body is end-to-end encrypted by the app. */
  e2e?: boolean;
}

/**
 * The connection a request arrived on, as services see it: per-connection state (such as
 * a capability bound by HELLO) and server-pushed events.
 */
export interface ConnectionContext {
  /** Unique among this process's connections. */
  readonly id: number;
  /** Remote address, "ip:port". */
  readonly peer: string;
  /**
   * Capability bound by HELLO: the default for START frames that carry none. Replaced, never
   * changed in place: the capability check remembers the one it verified by identity.
   */
  boundCap: Uint8Array | undefined;
  /** State services keep per connection, by a key of their own. */
  readonly locals: Map<string, unknown>;
  readonly closed: boolean;
  /** Pushes a one-frame EVENT (EVENT|START|END). Returns false when the connection is gone. */
  pushEvent(event: PushedEvent): boolean;
  /**
   * Resolves once the connection's socket has room for more frames (at once if it has room
   * now or it closed): pushers wait here so a peer that does not read holds node memory bounded.
   */
  drained(): Promise<void>;
  /** Runs `listener` once when the connection closes (at once if it already has). */
  onClose(listener: () => void): void;
  /** Whether shapeOutput() can shape this connection: frames travel on a byte stream (TLS), not as WebSocket messages. */
  readonly canShape: boolean;
  /**
   * Shapes what is sent on this connection from now on (specs/oap-1.md §10.1), replacing any
   * shaping before; undefined turns it off. Frames queued so far go out first, unshaped. Does
   * nothing where canShape is false.
   */
  shapeOutput(settings: ShapingSettings | undefined, observer?: ShapingObserver): void;
}

let nextId = 1;

/** The session's side of a ConnectionContext. */
export class SessionConnection implements ConnectionContext {
  readonly id = nextId++;
  boundCap: Uint8Array | undefined;
  readonly locals = new Map<string, unknown>();
  private closeListeners: Array<() => void> = [];
  private isClosed = false;
  /** The sink shaping this connection's sends, while shaping is on. */
  private shaper: ShapingSink | undefined;

  constructor(
    readonly peer: string,
    private readonly writer: FrameWriter,
    /** The transport's byte stream, when its sends can be shaped. */
    private readonly stream?: StreamSink,
  ) {}

  get canShape(): boolean {
    return this.stream !== undefined;
  }

  shapeOutput(settings: ShapingSettings | undefined, observer?: ShapingObserver): void {
    const stream = this.stream;
    if (!stream || this.closed || (!settings && !this.shaper)) return;
    const shaper = settings && new ShapingSink(stream, settings, observer ? { observer } : {});
    this.writer.useSink(shaper ?? stream);
    this.shaper = shaper;
  }

  get closed(): boolean {
    return this.isClosed || this.writer.isClosed;
  }

  /** Reply bytes the shaping sink holds for its current burst (0 unshaped): not in the socket's writableLength yet. */
  get shapingHeldBytes(): number {
    return this.shaper?.bytesHeld ?? 0;
  }

  pushEvent(event: PushedEvent): boolean {
    if (this.closed) return false;
    this.writer.writeStart({
      flags: Flags.EVENT | Flags.START | Flags.END | (event.e2e ? Flags.APP_E2E : 0),
      appProtoId: event.appProtoId ?? 0,
      tenantId: event.tenantId ?? 0n,
      corrId: event.corrId ?? 0n,
      meta: encodeMeta(event.meta),
      ...(event.body ? { body: event.body } : {}),
    });
    return true;
  }

  drained(): Promise<void> {
    return this.writer.drained();
  }

  onClose(listener: () => void): void {
    if (this.isClosed) listener();
    else this.closeListeners.push(listener);
  }

  /** Called by the session when its socket closed. */
  markClosed(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    const listeners = this.closeListeners;
    this.closeListeners = [];
    this.locals.clear();
    for (const listener of listeners) listener();
  }
}
