import { SimNetwork, type SimNodeOptions } from "../sim/network.js";
import { type Contact, type DhtId, distanceCompare, randomId, seededRandom } from "../src/index.js";

/** An id whose first byte is `b` and the rest zero: easy to reason about distances. */
export function idWith(first: number, rest = 0): DhtId {
  const id = new Uint8Array(32).fill(rest);
  id[0] = first;
  return id;
}

/** A contact with that id. */
export function contact(id: DhtId, address = "x"): Contact {
  return { id, address };
}

/** Brute-force k closest of `ids` to `target`. */
export function trueClosest(ids: DhtId[], target: DhtId, k: number): DhtId[] {
  return [...ids].sort((a, b) => distanceCompare(target, a, b)).slice(0, k);
}

/** A lossless network of `n` nodes, each bootstrapped through up to 3 earlier ones. */
export async function buildNetwork(
  n: number,
  seed: number,
  options: SimNodeOptions = {},
  loss = 0,
): Promise<SimNetwork> {
  const random = seededRandom(seed);
  const net = new SimNetwork(random, seed, { loss }, options);
  await net.run(
    (async () => {
      for (let i = 0; i < n; i++) {
        const index = net.addNode();
        const seeds = new Set<number>();
        while (seeds.size < Math.min(3, i)) seeds.add(Math.floor(random() * i));
        if (seeds.size > 0) await net.node(index).bootstrap([...seeds].map((s) => net.node(s).self));
      }
    })(),
  );
  return net;
}

export { randomId, seededRandom };
