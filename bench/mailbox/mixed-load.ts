import type { OapClient } from "../../packages/sdk/src/index.js";
import { cpuMicros } from "../support/cpu.js";
import { LatencyRecorder } from "../support/stats.js";

export interface MixedPlan {
  topic: string;
  bodyBytes: number;
  /** SENDs outstanding at once (closed loop) — or, with `ratePerSec`, the cap on outstanding sends. */
  sendInflight: number;
  /** Open loop: SEND at this rate instead of as fast as possible. */
  ratePerSec?: number;
  consumers: number;
  recvMax: number;
  warmupMs: number;
  measureMs: number;
  /** Producers pause while this many messages are sent and not yet acked. */
  maxBacklog: number;
  /** The node's pid, to report its CPU time per message. */
  serverPid?: number;
}

export interface MixedResult {
  seconds: number;
  sent: number;
  acked: number;
  sendLatency: LatencyRecorder;
  /** From the start of a SEND to the answer of its ACK. */
  endToEnd: LatencyRecorder;
  /** CPU time (µs) per acked message in the measured window: this process, and the node. */
  clientCpuUs: number | undefined;
  serverCpuUs: number | undefined;
}

/**
 * Mixed send → recv → ack through the node: producers SEND, consumers RECV batches and ACK
 * every message. Bodies carry their send time, so end-to-end latency needs no lookup table.
 */
export async function mixedLoad(client: OapClient, plan: MixedPlan): Promise<MixedResult> {
  const start = process.hrtime.bigint();
  const measureFrom = start + BigInt(plan.warmupMs) * 1_000_000n;
  const stopAt = measureFrom + BigInt(plan.measureMs) * 1_000_000n;
  const result: MixedResult = {
    seconds: plan.measureMs / 1000,
    sent: 0,
    acked: 0,
    sendLatency: new LatencyRecorder(),
    endToEnd: new LatencyRecorder(),
    clientCpuUs: undefined,
    serverCpuUs: undefined,
  };
  let sentTotal = 0;
  let ackedTotal = 0;
  let running = true;
  const body = (now: bigint): Buffer => {
    const b = Buffer.alloc(plan.bodyBytes, 0x61);
    b.writeBigUInt64BE(now, 0);
    return b;
  };
  const measuring = (t: bigint): boolean => t >= measureFrom && t < stopAt;
  let outstandingSends = 0;
  let wakeProducer: (() => void) | undefined;

  const sendOne = async (): Promise<void> => {
    const t0 = process.hrtime.bigint();
    outstandingSends++;
    await client.mailbox.send(plan.topic, body(t0));
    outstandingSends--;
    sentTotal++;
    const t1 = process.hrtime.bigint();
    if (measuring(t0)) {
      result.sent++;
      result.sendLatency.record(t1 - t0);
    }
    wakeProducer?.();
  };
  const backlogged = (): boolean => sentTotal + outstandingSends - ackedTotal >= plan.maxBacklog;

  const producers =
    plan.ratePerSec === undefined
      ? Array.from({ length: plan.sendInflight }, async () => {
          while (running) {
            if (backlogged()) {
              await new Promise<void>((resolve) => setTimeout(resolve, 1));
              continue;
            }
            await sendOne();
          }
        })
      : [
          (async () => {
            const rate = plan.ratePerSec as number;
            const tickMs = 5;
            let due = 0;
            const sends: Promise<void>[] = [];
            const began = process.hrtime.bigint();
            while (running) {
              const elapsedMs = Number(process.hrtime.bigint() - began) / 1e6;
              const target = Math.floor((elapsedMs * rate) / 1000);
              while (due < target && outstandingSends < plan.sendInflight) {
                due++;
                const p = sendOne();
                sends.push(p);
                if (sends.length > 10_000) sends.splice(0, 5_000);
              }
              await new Promise<void>((resolve) => setTimeout(resolve, tickMs));
            }
            await Promise.allSettled(sends);
          })(),
        ];

  const consumers = Array.from({ length: plan.consumers }, async () => {
    while (running) {
      const got = await client.mailbox.recv(plan.topic, {
        max: plan.recvMax,
        waitMs: 100,
        visibilityMs: 60_000,
      });
      await Promise.all(
        got.map(async (msg) => {
          await msg.ack();
          ackedTotal++;
          const t1 = process.hrtime.bigint();
          const t0 = msg.body.readBigUInt64BE(0);
          if (measuring(t1)) {
            result.acked++;
            result.endToEnd.record(t1 - t0);
          }
        }),
      );
    }
  });

  while (process.hrtime.bigint() < measureFrom) await new Promise((resolve) => setTimeout(resolve, 10));
  const cpuFrom = { client: cpuMicros(), server: cpuMicros(plan.serverPid) };
  while (process.hrtime.bigint() < stopAt) await new Promise((resolve) => setTimeout(resolve, 10));
  const cpuTo = { client: cpuMicros(), server: cpuMicros(plan.serverPid) };
  running = false;
  const perMessage = (from: number | undefined, to: number | undefined): number | undefined =>
    from === undefined || to === undefined || result.acked === 0 ? undefined : (to - from) / result.acked;
  result.clientCpuUs = perMessage(cpuFrom.client, cpuTo.client);
  result.serverCpuUs = plan.serverPid === undefined ? undefined : perMessage(cpuFrom.server, cpuTo.server);
  await Promise.all([...producers, ...consumers]);
  return result;
}
