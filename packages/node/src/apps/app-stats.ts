/**
 * What the node counts per routed app. The one place app-plane outcomes are counted, so
 * metrics can be wired here later (each field maps to one counter or gauge).
 */
export interface AppStatsSnapshot {
  id: number;
  name: string;
  /** Streams accepted for forwarding. */
  requests: number;
  /** Replies the backend started (code < 400) and the node relayed. */
  replied: number;
  /** Error replies chosen by the backend itself (code ≥ 400), relayed as they came. */
  backendErrors: number;
  /** 502 backend_unavailable: the backend could not be reached, or was lost mid-stream. */
  backendUnavailable: number;
  /** 504 backend_timeout: the backend did not start its reply, or send its next frame, within timeout_ms. */
  backendTimeout: number;
  /** 503 overloaded: max_inflight streams were already open to the backend. */
  overloaded: number;
  /** Streams open to the backend now. */
  open: number;
  /** Reply bytes the node holds for clients now: read from the backend, not yet taken by the client's socket. */
  bufferedBytes: number;
  /** The most reply bytes the node held for any one stream since it started. */
  peakStreamBufferedBytes: number;
}

/** An open stream's view of the reply bytes the node holds for it right now. */
export interface HeldBytes {
  heldBytes(): number;
}

export type AppOutcome = "replied" | "backendErrors" | "backendUnavailable" | "backendTimeout" | "overloaded";

/** The counters of one app; open streams are tracked so what they hold can be read live. */
export class AppStats<S extends HeldBytes = HeldBytes> {
  private readonly counts: Record<AppOutcome | "requests", number> = {
    requests: 0,
    replied: 0,
    backendErrors: 0,
    backendUnavailable: 0,
    backendTimeout: 0,
    overloaded: 0,
  };
  private readonly openStreams = new Set<S>();
  private peakStream = 0;

  constructor(
    readonly id: number,
    readonly name: string,
  ) {}

  get open(): number {
    return this.openStreams.size;
  }

  /** The streams open now. */
  streams(): Iterable<S> {
    return this.openStreams;
  }

  started(stream: S): void {
    this.counts.requests++;
    this.openStreams.add(stream);
  }

  finished(stream: S): void {
    this.openStreams.delete(stream);
  }

  count(outcome: AppOutcome): void {
    this.counts[outcome]++;
  }

  /** A stream reports what it holds at a moment it may be at its most (as it takes a chunk). */
  observe(bytes: number): void {
    if (bytes > this.peakStream) this.peakStream = bytes;
  }

  snapshot(): AppStatsSnapshot {
    let buffered = 0;
    for (const stream of this.openStreams) {
      const held = stream.heldBytes();
      buffered += held;
      this.observe(held);
    }
    return {
      id: this.id,
      name: this.name,
      ...this.counts,
      open: this.open,
      bufferedBytes: buffered,
      peakStreamBufferedBytes: this.peakStream,
    };
  }
}
