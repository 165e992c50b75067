import type { TappedConnection } from "../support/tls-tap.js";
import type { TracePacket } from "./analysis/trace.js";

/**
 * The records of `connection` between `from` and `to` (performance.now() ms), as a trace's
 * packets with times relative to `from`: the observer knows when an action window opens (the
 * harness's question is what happened in it, not when).
 */
export function packetsBetween(connection: TappedConnection, from: number, to: number): TracePacket[] {
  const out: TracePacket[] = [];
  for (const p of connection.packets) {
    if (p.at < from) continue;
    if (p.at > to) break;
    out.push({ t: p.at - from, dir: p.dir, bytes: p.bytes });
  }
  return out;
}
