import { afterEach, describe, expect, it } from "vitest";
import { eventually } from "../../packages/sdk/test/support/node.js";
import { RawOapConnection } from "../support/raw-oap.js";
import { TestScope } from "../support/scope.js";

const scope = new TestScope();
afterEach(() => scope.close());

describe("connection limits", () => {
  it("closes connections over max_connections before the handshake, and admits again once one closes", async () => {
    const node = await scope.node({ maxConnections: 2 });
    const first = await scope.raw(node);
    await scope.raw(node);

    await expect(RawOapConnection.open(node.oapUrl, node.caPem)).rejects.toThrow();
    expect(node.admission().refused.connections).toBe(1);
    expect(node.admission().connections).toBe(2);

    first.close();
    await eventually(() => node.admission().connections === 1);
    const again = await scope.raw(node);
    expect(again.closed).toBe(false);
  });

  it("limits connections per address when max_connections_per_ip is set", async () => {
    const node = await scope.node({ maxConnectionsPerIp: 1 });
    await scope.raw(node);
    await expect(RawOapConnection.open(node.oapUrl, node.caPem)).rejects.toThrow();
    expect(node.admission().refused.connections).toBe(1);
  });
});
