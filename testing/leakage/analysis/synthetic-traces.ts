/**
 * Synthetic request/response traces for checking the learners without a live node: each class is
 * a list of response sizes (one exchange per entry), sizes and timing get multiplicative noise,
 * and every session has its own round-trip time, as real sessions do.
 */
import { seededRandom } from "../../support/seeded-random.js";
import type { Trace, TracePacket } from "./trace.js";

/** Largest TLS record on the wire: 2^14 bytes of plaintext plus header and AEAD overhead. */
const MAX_RECORD = 16_384 + 5 + 17;

export interface SyntheticClass {
  label: string;
  /** Response bytes per exchange, in order (each exchange = one request record, then the response burst). */
  responses: readonly number[];
  /** Request record size (default 120 bytes). */
  requestBytes?: number;
}

export interface SyntheticOptions {
  tracesPerClass: number;
  /** Traces per session (default 5); a session holds one class. */
  tracesPerSession?: number;
  /** Relative size noise, e.g. 0.1 = ±10 % uniform (default 0.1). */
  sizeNoise?: number;
  seed?: number;
}

export function syntheticTraces(classes: readonly SyntheticClass[], options: SyntheticOptions): Trace[] {
  const random = seededRandom(options.seed ?? 7);
  const perSession = options.tracesPerSession ?? 5;
  const noise = options.sizeNoise ?? 0.1;
  const jitter = (value: number, spread: number) => Math.max(1, value * (1 + spread * (2 * random() - 1)));
  const traces: Trace[] = [];
  for (const shape of classes) {
    let rttMs = 0;
    for (let i = 0; i < options.tracesPerClass; i++) {
      const session = `${shape.label}-${Math.floor(i / perSession)}`;
      if (i % perSession === 0) rttMs = 20 + 60 * random();
      const packets: TracePacket[] = [];
      let t = 0;
      const send = (dir: 1 | -1, bytes: number) => {
        packets.push({ t, dir, bytes: Math.round(bytes) });
      };
      for (const response of shape.responses) {
        send(1, jitter(shape.requestBytes ?? 120, noise));
        t += jitter(rttMs, 0.2);
        let left = jitter(response, noise);
        while (left > 0) {
          const record = Math.min(MAX_RECORD, left + 22);
          send(-1, record);
          left -= record - 22;
          t += jitter(0.3, 0.5);
        }
        t += jitter(5, 0.5);
      }
      traces.push({ label: shape.label, session, packets });
    }
  }
  return traces;
}
