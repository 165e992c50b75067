import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type OapClient } from "../src/index.js";
import { startTestNode, type TestNode } from "./support/node.js";
import { TEST_APP, TestService } from "./support/test-service.js";

const MiB = 1024 * 1024;

/** Resolves once `read()` returns the same value on several polls in a row: the producer is stalled. */
async function settled(read: () => number): Promise<number> {
  let last = -1;
  let same = 0;
  for (let i = 0; i < 200 && same < 5; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    const now = read();
    same = now === last ? same + 1 : 0;
    last = now;
  }
  return last;
}

const TRANSPORTS = [
  { transport: "tls", url: (t: TestNode) => t.node.oapUrl },
  { transport: "wss", url: (t: TestNode) => t.node.wsUrl as string },
];

describe.each(TRANSPORTS)("response backpressure over $transport", ({ url }) => {
  let t: TestNode;
  let client: OapClient;
  const service = new TestService();

  beforeAll(async () => {
    t = await startTestNode({ services: [service] });
    client = await connect(url(t), { ca: t.node.caPem, maxBufferedBytes: MiB });
  });
  afterAll(async () => {
    await client?.close();
    await t?.stop();
  });

  it("stops reading the connection while a stream's consumer does not read, and delivers everything once it does", async () => {
    const total = 48 * MiB;
    const s = client.stream(TEST_APP, { meta: { op: "flood", bytes: total } });
    await s.end();
    expect((await s.response).code).toBe(200);

    // Nobody reads: the node's writes must stall well short of the whole body.
    const stalledAt = await settled(() => service.floodWritten);
    expect(service.floodDone).toBe(false);
    expect(stalledAt).toBeLessThan(total);

    let received = 0;
    for await (const chunk of s) received += chunk.byteLength;
    expect(received).toBe(total);
    expect(service.floodDone).toBe(true);
  });
});
