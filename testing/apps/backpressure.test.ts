import { afterEach, describe, expect, it } from "vitest";
import { TestScope } from "../support/scope.js";
import { backendTls, clientOf, generatedByte, routingNode, startBackend } from "./support.js";

const scope = new TestScope();
afterEach(() => scope.close());

const MiB = 1024 * 1024;
const TOTAL = 256 * MiB;
const CHUNK = 64 * 1024;
/** What the node may hold for one stream: buffer_bytes (1 MiB) plus a read and a frame in flight. */
const NODE_BOUND = 4 * MiB;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The generated pattern (byte i is i mod 251) from any offset, for up to 1 MiB: a slice of this. */
const PATTERN = Buffer.from(Array.from({ length: MiB + 251 }, (_, i) => generatedByte(i)));
const expected = (offset: number, length: number) => PATTERN.subarray(offset % 251, (offset % 251) + length);

describe("app routing backpressure", () => {
  it("holds a large reply back at the backend while the client does not read, then delivers every byte", async () => {
    // The backend counts what it has handed to its connection: the writes resolve only as it drains.
    let produced = 0;
    const tls = await backendTls(scope);
    const backend = await startBackend(scope, tls, async (_req, res) => {
      await res.start(200, { total: TOTAL });
      for (let offset = 0; offset < TOTAL && !res.ended; offset += CHUNK) {
        await res.write(Buffer.from(expected(offset, CHUNK)));
        produced += CHUNK;
      }
      res.end();
    });
    const node = await routingNode(scope, [
      { id: 0x1001, name: "bulk", backend: backend.url, caFile: tls.caFile, poolSize: 1 },
    ]);
    const client = await clientOf(scope, node, { maxBufferedBytes: MiB });

    const stream = client.stream(0x1001, { deadlineMs: 120_000 });
    await stream.end();
    expect((await stream.response).meta).toEqual({ total: TOTAL });
    const chunks = stream[Symbol.asyncIterator]();
    let received = 0;
    let mismatches = 0;
    const take = async (bytes: number): Promise<boolean> => {
      while (received < bytes) {
        const next = await chunks.next();
        if (next.done) return false;
        if (!next.value.equals(expected(received, next.value.length))) mismatches++;
        received += next.value.length;
      }
      return true;
    };

    // Read a little, then stop reading until the pipeline is full and the backend has stopped.
    await take(4 * MiB);
    let last = -1;
    while (produced !== last) {
      last = produced;
      await sleep(300);
    }
    const stats = node.appStats()[0];
    const inFlight = produced - received;
    // The backend was held back far short of the whole reply, and the node holds little of what is in flight.
    expect(produced).toBeLessThan(TOTAL / 2);
    expect(inFlight).toBeLessThan(48 * MiB);
    expect(stats?.bufferedBytes).toBeLessThan(NODE_BOUND);
    expect(stats?.peakStreamBufferedBytes).toBeLessThan(NODE_BOUND);

    // Resume: every byte arrives, in order, and the node never held more than its bound.
    await take(TOTAL);
    expect((await chunks.next()).done).toBe(true);
    expect(received).toBe(TOTAL);
    expect(mismatches).toBe(0);
    expect(node.appStats()[0]).toMatchObject({ replied: 1, open: 0, bufferedBytes: 0 });
    expect(node.appStats()[0]?.peakStreamBufferedBytes).toBeLessThan(NODE_BOUND);
  });
});
