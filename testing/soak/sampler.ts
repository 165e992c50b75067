/**
 * Every interval: the node process's open FDs and RSS from /proc, its heap and event-loop
 * delay from its /metrics (prom-client's default process metrics), and what the requests of
 * the interval did. One JSON line per sample in samples.jsonl, one progress line on stderr.
 */
import { appendFileSync } from "node:fs";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { openFdCount, rssBytes } from "../support/proc-stats.js";
import { parseExposition, sampleValue } from "../support/prometheus-text.js";
import type { FaultLog } from "./faults.js";
import { availability, type Split, sum, type Tally } from "./tally.js";

export interface Sample {
  /** Seconds since the run started (end of the interval). */
  t: number;
  at: string;
  /** Open file descriptors of the node process (/proc/<pid>/fd). */
  fds: number;
  /** Resident set size of the node process (/proc/<pid>/status VmRSS), bytes. */
  rss_bytes: number;
  /** V8 heap used (nodejs_heap_size_used_bytes), bytes; null when the scrape failed. */
  heap_used_bytes: number | null;
  /** Node's event-loop delay p99 and max over the interval (nodejs_eventloop_lag_p99/max_seconds), ms. */
  eventloop_p99_ms: number | null;
  eventloop_max_ms: number | null;
  /** The harness's own event-loop delay p99 over the interval, ms (a saturated harness shows here). */
  harness_eventloop_p99_ms: number;
  /** Requests that ended in the interval, and per second. */
  requests: number;
  rate: number;
  success: number;
  refused: number;
  failed: number;
  hung: number;
  /** Of those, how many overlapped an injected fault window of a dependency they use. */
  during_fault: number;
  /** success / admitted over the interval; null with nothing admitted. */
  availability: number | null;
  /** The same, leaving out requests during injected faults. */
  availability_ex_fault: number | null;
  outstanding: number;
  /** Dependencies down (or in their grace period) at the end of the interval. */
  faults: string[];
}

export interface SamplerOptions {
  pid: number;
  adminUrl: string;
  tally: Tally;
  faults: FaultLog;
  now: () => number;
  outstanding: () => number;
  file: string;
  say: (line: string) => void;
}

export class Sampler {
  readonly samples: Sample[] = [];
  scrapeErrors = 0;
  private last: number;
  private readonly harnessDelay = monitorEventLoopDelay({ resolution: 10 });

  constructor(private readonly o: SamplerOptions) {
    this.last = o.now();
    this.harnessDelay.enable();
  }

  /** A first scrape, whose event-loop figures cover the node's start: it resets them. */
  async prime(): Promise<void> {
    await this.scrape();
    this.o.tally.takeInterval();
    this.last = this.o.now();
    this.harnessDelay.reset();
  }

  async take(): Promise<Sample> {
    const metrics = await this.scrape();
    const now = this.o.now();
    const split: Split = this.o.tally.takeInterval();
    const seconds = Math.max(0.001, (now - this.last) / 1000);
    this.last = now;
    const all = split.all;
    const s: Sample = {
      t: Math.round(now) / 1000,
      at: new Date().toISOString(),
      fds: openFdCount(this.o.pid),
      rss_bytes: rssBytes(this.o.pid),
      heap_used_bytes: metrics?.heap ?? null,
      eventloop_p99_ms: metrics?.p99 ?? null,
      eventloop_max_ms: metrics?.max ?? null,
      harness_eventloop_p99_ms: this.harnessDelay.percentile(99) / 1e6,
      requests: sum(all),
      rate: sum(all) / seconds,
      success: all.success,
      refused: all.refused,
      failed: all.failed,
      hung: all.hung,
      during_fault: sum(split.fault),
      availability: availability(all) ?? null,
      availability_ex_fault: availability(split.clean) ?? null,
      outstanding: this.o.outstanding(),
      faults: this.o.faults.active(now),
    };
    this.harnessDelay.reset();
    this.samples.push(s);
    appendFileSync(this.o.file, `${JSON.stringify(s)}\n`);
    this.o.say(progressLine(s));
    return s;
  }

  stop(): void {
    this.harnessDelay.disable();
  }

  private async scrape(): Promise<{ heap?: number; p99?: number; max?: number } | undefined> {
    try {
      const res = await fetch(`${this.o.adminUrl}/metrics`, { signal: AbortSignal.timeout(3_000) });
      if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
      const e = parseExposition(await res.text());
      const ms = (name: string) => {
        const v = sampleValue(e, name);
        return v === undefined || !Number.isFinite(v) ? undefined : v * 1000;
      };
      return {
        heap: sampleValue(e, "nodejs_heap_size_used_bytes"),
        p99: ms("nodejs_eventloop_lag_p99_seconds"),
        max: ms("nodejs_eventloop_lag_max_seconds"),
      };
    } catch {
      this.scrapeErrors++;
      return undefined;
    }
  }
}

const pct = (v: number | null) => (v === null ? "   —   " : `${(v * 100).toFixed(2).padStart(6)}%`);
const mb = (v: number | null) => (v === null ? "—" : `${(v / 2 ** 20).toFixed(0)}M`);

export function clock(seconds: number): string {
  const s = Math.floor(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}h${String(m).padStart(2, "0")}m${sec}s` : `${m}m${sec}s`;
}

function progressLine(s: Sample): string {
  const bad =
    s.refused + s.failed + s.hung > 0 ? ` refused ${s.refused} failed ${s.failed} hung ${s.hung}` : "";
  return (
    `[${clock(s.t).padStart(9)}] ${s.rate.toFixed(0).padStart(4)} req/s ok ${pct(s.availability)} ` +
    `(ex-fault ${pct(s.availability_ex_fault)})${bad} | fd ${s.fds} rss ${mb(s.rss_bytes)} heap ${mb(s.heap_used_bytes)} ` +
    `el p99 ${s.eventloop_p99_ms === null ? "—" : s.eventloop_p99_ms.toFixed(1)}ms` +
    `${s.faults.length > 0 ? ` | fault: ${s.faults.join(",")}` : ""}`
  );
}
