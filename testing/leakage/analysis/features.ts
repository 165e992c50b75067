/**
 * Hand-made trace features in the style of the website-fingerprinting literature: the k-FP
 * statistics (Hayes & Danezis 2016: counts, bursts, timing, ordering) plus CUMUL (Panchenko et
 * al. 2016: the cumulative signed-bytes curve sampled at fixed points). The vector has the same
 * length for every trace, including one with no packets, so learners can stack them.
 */
import type { Trace, TracePacket } from "./trace.js";

/** Signed sizes of the first records: the handshake and request openings are the classic giveaways. */
const FIRST_PACKETS = 20;
/** Points at which the CUMUL curve is sampled (CUMUL uses 100 on Tor; 50 is enough for short traces). */
const CUMUL_POINTS = 50;
/** Bins over the trace's own duration, so long and short traces compare by shape (duration is its own feature). */
const TIME_BINS = 20;
/** log2 size bins: < 64 B in the first, then one per power of two, ≥ 16 KiB (a full TLS record) in the last. */
const SIZE_LOG2_MIN = 5;
const SIZE_LOG2_MAX = 14;

type Sink = (name: string, value: number) => void;

const DIRECTIONS = [
  [1, "out"],
  [-1, "in"],
] as const;

/** Names of the entries of `traceFeatures`' vector, in order. */
export const FEATURE_NAMES: readonly string[] = (() => {
  const names: string[] = [];
  describe([], (name) => names.push(name));
  return names;
})();

/** The fixed-length feature vector of one trace (packets taken in capture order). */
export function traceFeatures(trace: Trace): number[] {
  const values: number[] = [];
  describe(trace.packets, (_, value) => values.push(value));
  return values;
}

// Every branch writes the same names whatever the input, so the vector length never varies.
function describe(packets: readonly TracePacket[], put: Sink): void {
  const outgoing = packets.filter((p) => p.dir === 1);
  const incoming = packets.filter((p) => p.dir === -1);
  const totalBytes = sum(packets.map((p) => p.bytes));
  const outBytes = sum(outgoing.map((p) => p.bytes));
  const inBytes = totalBytes - outBytes;
  const duration = max(packets.map((p) => p.t));

  put("packets", packets.length);
  put("packets_out", outgoing.length);
  put("packets_in", incoming.length);
  put("packets_out_fraction", ratio(outgoing.length, packets.length));
  put("bytes", totalBytes);
  put("bytes_out", outBytes);
  put("bytes_in", inBytes);
  put("bytes_out_fraction", ratio(outBytes, totalBytes));
  put("duration_ms", duration);

  // Ordering (k-FP): where in the trace the client speaks.
  const outPositions = packets.flatMap((p, i) => (p.dir === 1 ? [i] : []));
  put("out_position_mean", mean(outPositions));
  put("out_position_std", std(outPositions));

  const bursts = burstsOf(packets);
  put("bursts", bursts.length);
  for (const [dir, name] of DIRECTIONS) {
    const mine = bursts.filter((b) => b.dir === dir);
    const sizes = mine.map((b) => b.bytes);
    const lengths = mine.map((b) => b.packets);
    put(`bursts_${name}`, mine.length);
    put(`burst_${name}_bytes_mean`, mean(sizes));
    put(`burst_${name}_bytes_std`, std(sizes));
    put(`burst_${name}_bytes_max`, max(sizes));
    put(`burst_${name}_packets_mean`, mean(lengths));
    put(`burst_${name}_packets_max`, max(lengths));
  }

  for (let i = 0; i < FIRST_PACKETS; i++) {
    const p = packets[i];
    put(`first_${i}_signed_bytes`, p ? p.dir * p.bytes : 0);
  }

  for (const [dir, name] of DIRECTIONS) {
    const bins = new Array<number>(SIZE_LOG2_MAX - SIZE_LOG2_MIN + 1).fill(0);
    for (const p of packets) {
      if (p.dir !== dir) continue;
      const exponent = Math.floor(Math.log2(Math.max(1, p.bytes)));
      const bin = Math.min(SIZE_LOG2_MAX, Math.max(SIZE_LOG2_MIN, exponent)) - SIZE_LOG2_MIN;
      bins[bin] = (bins[bin] ?? 0) + 1;
    }
    for (const [i, count] of bins.entries()) put(`size_log2_${name}_${i + SIZE_LOG2_MIN}`, count);
  }

  for (const [i, y] of cumul(packets, totalBytes).entries()) put(`cumul_${i}`, y);

  const gaps = packets.slice(1).map((p, i) => p.t - (packets[i] as TracePacket).t);
  put("iat_mean", mean(gaps));
  put("iat_std", std(gaps));
  put("iat_median", median(gaps));
  put("iat_max", max(gaps));
  for (const [name, mine] of [
    ["out", outgoing],
    ["in", incoming],
  ] as const) {
    const sameDirectionGaps = mine.slice(1).map((p, i) => p.t - (mine[i] as TracePacket).t);
    put(`iat_${name}_mean`, mean(sameDirectionGaps));
    put(`iat_${name}_max`, max(sameDirectionGaps));
  }

  for (const [dir, name] of DIRECTIONS) {
    const bins = new Array<number>(TIME_BINS).fill(0);
    for (const p of packets) {
      if (p.dir !== dir) continue;
      const bin = duration > 0 ? Math.min(TIME_BINS - 1, Math.floor((p.t / duration) * TIME_BINS)) : 0;
      bins[bin] = (bins[bin] ?? 0) + p.bytes;
    }
    for (const [i, bytes] of bins.entries()) put(`time_bin_${name}_${i}_bytes`, bytes);
  }
}

interface Burst {
  dir: 1 | -1;
  packets: number;
  bytes: number;
}

/** Maximal runs of consecutive same-direction records. */
function burstsOf(packets: readonly TracePacket[]): Burst[] {
  const bursts: Burst[] = [];
  for (const p of packets) {
    const last = bursts.at(-1);
    if (last && last.dir === p.dir) {
      last.packets += 1;
      last.bytes += p.bytes;
    } else {
      bursts.push({ dir: p.dir, packets: 1, bytes: p.bytes });
    }
  }
  return bursts;
}

/**
 * CUMUL: the curve (cumulative |bytes|, cumulative signed bytes), linearly interpolated at
 * CUMUL_POINTS equally spaced points of its x axis, so traces of any length align.
 */
function cumul(packets: readonly TracePacket[], totalBytes: number): number[] {
  const ys = new Array<number>(CUMUL_POINTS).fill(0);
  if (totalBytes <= 0) return ys;
  let x0 = 0;
  let y0 = 0;
  let next = 0;
  for (const p of packets) {
    const x1 = x0 + p.bytes;
    const y1 = y0 + p.dir * p.bytes;
    for (; next < CUMUL_POINTS; next++) {
      const x = (totalBytes * (next + 1)) / CUMUL_POINTS;
      if (x > x1) break;
      ys[next] = x1 > x0 ? y0 + ((y1 - y0) * (x - x0)) / (x1 - x0) : y1;
    }
    x0 = x1;
    y0 = y1;
  }
  // Floating-point rounding can leave the last point just past the final x.
  for (; next < CUMUL_POINTS; next++) ys[next] = y0;
  return ys;
}

function sum(values: readonly number[]): number {
  let total = 0;
  for (const v of values) total += v;
  return total;
}

function ratio(part: number, whole: number): number {
  return whole > 0 ? part / whole : 0;
}

function mean(values: readonly number[]): number {
  return values.length > 0 ? sum(values) / values.length : 0;
}

function std(values: readonly number[]): number {
  if (values.length < 2) return 0;
  const m = mean(values);
  return Math.sqrt(mean(values.map((v) => (v - m) ** 2)));
}

function max(values: readonly number[]): number {
  let best = 0;
  for (const v of values) best = Math.max(best, v);
  return best;
}

function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}
