import type { KernelBus, Subscription } from "../kernel/bus.js";
import type { KernelEvent } from "../kernel/events.js";

export type StampedEvent = KernelEvent & { at: string };

/**
 * The last few kernel events, for the status page: a bus subscriber that reads as events
 * arrive and keeps a short window of them.
 */
export class RecentEvents {
  private readonly events: StampedEvent[] = [];
  private readonly subscription: Subscription;
  private readonly reading: Promise<void>;

  constructor(
    bus: KernelBus,
    private readonly keep: number,
  ) {
    this.subscription = bus.subscribe();
    this.reading = this.read();
  }

  list(): StampedEvent[] {
    return [...this.events].reverse();
  }

  async close(): Promise<void> {
    this.subscription.close();
    await this.reading;
  }

  private async read(): Promise<void> {
    for await (const event of this.subscription) {
      this.events.push({ ...event, at: new Date().toISOString() });
      if (this.events.length > this.keep) this.events.shift();
    }
  }
}
