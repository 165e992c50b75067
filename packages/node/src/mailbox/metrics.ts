import { Counter, Gauge, type Registry } from "prom-client";
import type { MailboxEvent } from "./counters.js";
import type { DepthByState } from "./engine.js";

const COUNTERS: ReadonlyArray<[MailboxEvent, string, string]> = [
  ["enqueued", "mailbox_enqueued_total", "Messages accepted by SEND (duplicates not counted)."],
  ["delivered", "mailbox_delivered_total", "First deliveries of messages (RECV and SUBSCRIBE)."],
  ["redelivered", "mailbox_redelivered_total", "Deliveries after the first (lease expired or NACKed)."],
  ["acked", "mailbox_acked_total", "Messages acknowledged (explicitly or by auto-ack)."],
  ["dlq", "mailbox_dlq_total", "Messages moved to a dead-letter queue."],
];

/** The mailbox metrics; no topic labels, so cardinality stays fixed. */
export class MailboxMetrics {
  private readonly counts = new Map<MailboxEvent, number>(COUNTERS.map(([event]) => [event, 0]));
  private depthSource: (() => Promise<DepthByState>) | undefined;

  constructor(registry: Registry) {
    const counts = this.counts;
    for (const [event, name, help] of COUNTERS) {
      new Counter({
        name,
        help,
        registers: [registry],
        collect() {
          this.reset();
          this.inc(counts.get(event) ?? 0);
        },
      });
    }
    const self = this;
    new Gauge({
      name: "mailbox_depth",
      help: "Messages stored, by state: ready, inflight (leased), delayed (NACK delay), dlq.",
      labelNames: ["state"],
      registers: [registry],
      async collect() {
        const depth = (await self.depthSource?.().catch(() => undefined)) ?? {
          ready: 0,
          inflight: 0,
          delayed: 0,
          dlq: 0,
        };
        for (const [state, n] of Object.entries(depth)) this.set({ state }, n);
      },
    });
  }

  /** Counts engine events (the engines' MailboxCounter). */
  readonly count = (event: MailboxEvent, n: number): void => {
    this.counts.set(event, (this.counts.get(event) ?? 0) + n);
  };

  /** Where mailbox_depth reads from: the running engine, or nothing while it is down. */
  setDepthSource(source: (() => Promise<DepthByState>) | undefined): void {
    this.depthSource = source;
  }
}
