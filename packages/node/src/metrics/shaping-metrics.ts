import type { ShapingObserver } from "@omnigate/oap/internal";
import type { Registry } from "prom-client";
import { registerScraped, single } from "./scraped.js";

/**
 * Traffic shaping's cost (specs/oap-1.md §10.1), in the node's registry next to the golden
 * metrics: connections that were granted shaping, the PAD bytes the node sent, its cover bursts.
 * The hot path adds to plain numbers; the counters copy them at scrape time.
 */
export class ShapingMetrics {
  private granted = 0;
  private padBytes = 0;
  private padFrames = 0;
  private coverBursts = 0;

  constructor(registry: Registry) {
    const counters: Array<[name: string, help: string, read: () => number]> = [
      ["shaping_connections_total", "HELLOs answered with traffic shaping granted.", () => this.granted],
      [
        "shaping_pad_bytes_total",
        "PAD frame bytes sent (burst padding and cover traffic).",
        () => this.padBytes,
      ],
      ["shaping_pad_frames_total", "PAD frames sent.", () => this.padFrames],
      [
        "shaping_cover_bursts_total",
        "Cover bursts sent (PAD frames sent on a timer, not with data).",
        () => this.coverBursts,
      ],
    ];
    for (const [name, help, read] of counters) registerScraped(registry, "counter", name, help, single(read));
  }

  /** A HELLO was granted shaping. */
  grantedShaping(): void {
    this.granted++;
  }

  /** Counts what a connection's ShapingSink sends. */
  readonly observer: ShapingObserver = (bytes, frames, cover) => {
    this.padBytes += bytes;
    this.padFrames += frames;
    if (cover) this.coverBursts++;
  };

  /** What the counters expose, for tests and the status page. */
  snapshot(): { connections: number; padBytes: number; padFrames: number; coverBursts: number } {
    return {
      connections: this.granted,
      padBytes: this.padBytes,
      padFrames: this.padFrames,
      coverBursts: this.coverBursts,
    };
  }
}
