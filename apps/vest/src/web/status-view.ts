import type { OapClient } from "@omnigate/sdk";
import type { BusyGate, BusyState } from "./busy-gate.js";
import { byId } from "./dom.js";
import type { LatencyStats } from "./latency-stats.js";

/** How long a rail's busy banner outlives its last refusal. */
const BANNER_LINGER_MS = 1_500;

/**
 * The top bar's indicators: connection state, map and chat latency, and the busy banner
 * ("map busy, retrying in 3 s") while the node refuses for load. The banner counts down from
 * the retry_after_ms the node gave, and goes away by itself when a retry succeeds. A rail's
 * banner stays up BANNER_LINGER_MS after its last refusal, so a storm of short refusals
 * (retry_after_ms of a few ms each) reads as one steady message instead of a flicker.
 */
export class StatusView {
  private readonly busy = new Map<string, BusyState>();
  /** Rails that were busy a moment ago: their last state and when the banner may drop it. */
  private readonly lingering = new Map<string, { state: BusyState; until: number }>();
  private readonly connection = byId("connection");
  private readonly latency = byId("latency");
  private readonly banner = byId("busy");
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(
    private readonly tileReads: LatencyStats,
    private readonly sends: LatencyStats,
  ) {
    this.timer = setInterval(() => this.render(), 250);
    this.setConnected(true);
  }

  /** Every busy episode of every rail, for tests and the curious: `vest.busyLog`. */
  readonly log: Array<{ rail: string; busy: boolean; at: number; code?: number }> = [];

  watch(gate: BusyGate): void {
    gate.onChange((state) => {
      const was = this.busy.get(gate.rail);
      if (state) {
        this.busy.set(gate.rail, state);
        this.lingering.delete(gate.rail);
      } else if (was) {
        this.busy.delete(gate.rail);
        this.lingering.set(gate.rail, { state: was, until: Date.now() + BANNER_LINGER_MS });
      }
      if ((was !== undefined) !== (state !== undefined)) {
        this.log.push({
          rail: gate.rail,
          busy: state !== undefined,
          at: Date.now(),
          ...(state ? { code: state.code } : {}),
        });
        if (this.log.length > 1_000) this.log.shift();
      }
      this.render();
    });
  }

  watchClient(client: OapClient): void {
    client.on("connect", () => this.setConnected(true));
    client.on("disconnect", () => this.setConnected(false));
  }

  dispose(): void {
    clearInterval(this.timer);
  }

  private setConnected(up: boolean): void {
    this.connection.dataset.state = up ? "up" : "down";
    this.connection.textContent = up ? "connected" : "reconnecting…";
  }

  private render(): void {
    const tiles = this.tileReads.quantile(0.95);
    const send = this.sends.quantile(0.5);
    this.latency.textContent = [
      tiles === undefined ? "map –" : `map p95 ${Math.round(tiles)} ms`,
      send === undefined ? "chat –" : `chat ${Math.round(send)} ms`,
    ].join(" · ");
    const now = Date.now();
    for (const [rail, { until }] of this.lingering) if (until <= now) this.lingering.delete(rail);
    const states = [...this.busy.values(), ...[...this.lingering.values()].map((l) => l.state)];
    if (states.length === 0) {
      this.banner.dataset.state = "idle";
      this.banner.textContent = "";
      return;
    }
    this.banner.dataset.state = "busy";
    this.banner.textContent = states
      .map((s) => {
        const seconds = Math.max(0, Math.ceil((s.retryAt - now) / 1000));
        const why = s.code === 429 ? "over quota" : "node overloaded";
        return `${s.rail} busy (${s.code} ${why}), retrying in ${seconds} s`;
      })
      .join(" · ");
  }
}
