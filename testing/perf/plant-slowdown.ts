/**
 * A planted slowdown for the perf gate test, preloaded into the OAP node child only
 * (BENCH_OAP_NODE_IMPORT, bench/support/servers.ts): every TLS socket write busy-waits in
 * proportion to its bytes. The node coalesces a turn's replies into one write, so a wait per
 * call would shrink as batches grow; a wait per byte costs every reply the same (about
 * 100 µs for a 64 B echo reply at the default 1 µs per byte), many times the node's own cost.
 */
import { TLSSocket } from "node:tls";

const nsPerByte = Number(process.env.PLANT_SPIN_NS_PER_BYTE ?? "1000");

function spin(ns: number): void {
  const until = process.hrtime.bigint() + BigInt(Math.round(ns));
  while (process.hrtime.bigint() < until) {
    // Busy: the point is to burn the node's CPU, as slower code would.
  }
}

type Write = (this: TLSSocket, chunk: unknown, ...rest: unknown[]) => boolean;
const write = TLSSocket.prototype.write as unknown as Write;
const planted: Write = function (chunk, ...rest) {
  const bytes =
    typeof chunk === "string" ? Buffer.byteLength(chunk) : ((chunk as Uint8Array).byteLength ?? 0);
  spin(bytes * nsPerByte);
  return write.call(this, chunk, ...rest);
};
(TLSSocket.prototype as unknown as { write: Write }).write = planted;
process.stderr.write(`plant-slowdown: TLS writes in pid ${process.pid} spin ${nsPerByte} ns per byte\n`);
