import { describe, expect, it } from "vitest";
import { idToHex, randomId, seededRandom } from "../src/index.js";
import { buildNetwork, trueClosest } from "./support.js";

describe("lookup on an in-memory network", () => {
  it("finds the true k closest live nodes", async () => {
    const net = await buildNetwork(150, 11, { refreshBuckets: 16 });
    const random = seededRandom(99);
    const ids = net.nodes.map((n) => n.self.id);
    for (let i = 0; i < 10; i++) {
      const requester = net.node(Math.floor(random() * net.nodes.length));
      const target = randomId(random);
      const found = await net.run(requester.lookup(target));
      const others = ids.filter((id) => id !== requester.self.id);
      expect(found.map((c) => idToHex(c.id))).toEqual(trueClosest(others, target, 20).map(idToHex));
    }
  });

  it("bootstraps tables that cover the network", async () => {
    const net = await buildNetwork(100, 5);
    for (const node of net.nodes) expect(node.table.size).toBeGreaterThanOrEqual(15);
  });
});
