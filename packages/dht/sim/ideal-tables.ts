import { ID_BITS, ID_BYTES } from "../src/index.js";
import type { SimNetwork } from "./network.js";

/**
 * Fills the tables of `indexes` as if every node had long been in the network: bucket `i` of
 * node x gets up to k nodes drawn at random from all the nodes whose id shares exactly `i`
 * leading bits with x (Kademlia's steady state, as in the research model). Used for the initial
 * 10,000 nodes because a realistic join of each (self-lookup + refresh of every bucket) costs
 * ~400 RPCs a node, which at 10k nodes is minutes; nodes that join later (churn) bootstrap for
 * real. Ids are sorted once; each bucket is a contiguous range found by binary search.
 */
export function fillIdealTables(net: SimNetwork, indexes: number[], k: number, random: () => number): void {
  const sorted = indexes
    .map((i) => ({ i, id: net.node(i).self.id }))
    .sort((a, b) => compareBytes(a.id, b.id));
  const ids = sorted.map((x) => x.id);
  for (const { i } of sorted) {
    const node = net.node(i);
    const self = node.self.id;
    for (let b = 0; b < ID_BITS; b++) {
      // Nodes sharing our first b bits with bit b flipped: bucket b.
      const lo = lowerBound(ids, bound(self, b, true, 0));
      const hi = upperBound(ids, bound(self, b, true, 0xff));
      const size = hi - lo;
      if (size > 0) {
        const picked = new Set<number>();
        if (size <= k) for (let j = lo; j < hi; j++) picked.add(j);
        else while (picked.size < k) picked.add(lo + Math.floor(random() * size));
        for (const j of picked) {
          const other = sorted[j];
          if (other) node.table.update(net.node(other.i).self);
        }
      }
      // Nodes sharing our first b + 1 bits: when that is only us, deeper buckets are empty.
      const ownLo = lowerBound(ids, bound(self, b, false, 0));
      const ownHi = upperBound(ids, bound(self, b, false, 0xff));
      if (ownHi - ownLo <= 1) break;
    }
  }
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < ID_BYTES; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** `self`'s first `bit` bits, then bit `bit` (flipped or not), then every later bit set to `fill`. */
function bound(self: Uint8Array, bit: number, flip: boolean, fill: number): Uint8Array {
  const out = new Uint8Array(ID_BYTES).fill(fill);
  const byte = bit >> 3;
  const pos = 7 - (bit & 7);
  for (let i = 0; i < byte; i++) out[i] = self[i] ?? 0;
  const s = self[byte] ?? 0;
  const high = s & ((0xff << (pos + 1)) & 0xff);
  const b = ((s >> pos) & 1) ^ (flip ? 1 : 0);
  const low = fill & ((1 << pos) - 1);
  out[byte] = high | (b << pos) | low;
  return out;
}

function lowerBound(ids: Uint8Array[], x: Uint8Array): number {
  let lo = 0;
  let hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (compareBytes(ids[mid] as Uint8Array, x) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function upperBound(ids: Uint8Array[], x: Uint8Array): number {
  let lo = 0;
  let hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (compareBytes(ids[mid] as Uint8Array, x) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
