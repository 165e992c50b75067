/**
 * Node.js flags the node runs with, wherever it is started: `npm start`, the shebang of
 * `omnigate`, the systemd unit (ops/systemd, docs/deployment.md) and the harnesses that start it
 * as a process (tests, benches, the Vest pilot). packages/node/test/runtime-flags.test.ts holds
 * the shebang, `npm start` and the unit to this list.
 *
 * `--initial-old-space-size=128`: V8 starts a mark-compact once the old generation plus the
 * external memory allocated since the last one (ArrayBuffer backing stores: socket reads,
 * frames assembled across reads, reply batches) reach its limit. After a collection it sets the
 * limit close above the live heap (≈ 21 MB live, 36 MB limit for the node), so with 16 KiB
 * bodies the buffers of a few hundred requests reached it again and the node fell into a
 * mark-compact every 20–40 ms, at 2–3× the CPU per request (bench/README.md, "The costly
 * 16 KiB mode"). The initial size is also the limit's floor: the old generation may hold up to
 * 128 MB before a mark-compact, which ends the storm for the price of that much more heap.
 */
export const NODE_RUNTIME_FLAGS: readonly string[] = ["--initial-old-space-size=128"];
