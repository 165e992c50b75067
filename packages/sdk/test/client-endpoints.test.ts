import { createServer, type Server } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { Endpoints } from "../src/client/endpoints.js";
import type { TransportOpener } from "../src/client/transport.js";
import { type NodeAddress, parseNodeUrl } from "../src/client/url.js";
import { connect, OapConnectionError } from "../src/index.js";

const never: TransportOpener = () => Promise.reject(new Error("not dialled in these tests"));
const endpointsOf = (...urls: string[]) => new Endpoints(urls.map(parseNodeUrl), () => never);
const targets = (endpoints: Endpoints) => endpoints.inDialOrder().map((e) => e.target);

describe("Endpoints: the order a client dials a cluster's nodes in", () => {
  it("starts at the first URL, stays on the node it connected to, and moves past one it lost", () => {
    const endpoints = endpointsOf("oap+tls://a:1", "oap+tls://b:2", "oap+tls://c:3");
    expect(targets(endpoints)).toEqual(["a:1", "b:2", "c:3"]);
    const [a, b, c] = endpoints.inDialOrder();
    endpoints.connected(b as never);
    expect(targets(endpoints)).toEqual(["b:2", "c:3", "a:1"]);
    endpoints.lost(b as never);
    expect(targets(endpoints)).toEqual(["c:3", "a:1", "b:2"]);
    // A loss of a node the order already moved past changes nothing.
    endpoints.lost(a as never);
    expect(targets(endpoints)).toEqual(["c:3", "a:1", "b:2"]);
    endpoints.lost(c as never);
    expect(targets(endpoints)).toEqual(["a:1", "b:2", "c:3"]);
  });

  it("learns a HELLO's nodes on the first URL's transport only, once each, skipping what does not parse", () => {
    const endpoints = endpointsOf("oap+tls://a:1");
    const added = endpoints.learn([
      "oap+tls://a:1",
      "oap+tls://A:1",
      "oap+tls://b:2",
      "wss://c:3/oap",
      "http://d:4",
      "not a url",
      42,
      "oap+tls://[::1]:5",
    ]);
    expect(added).toBe(2);
    expect(targets(endpoints)).toEqual(["a:1", "b:2", "[::1]:5"]);
    expect(endpoints.learn(undefined)).toBe(0);
    expect(endpoints.learn("oap+tls://e:6" as unknown as string[])).toBe(0);
  });

  it("opens each node with its own address", () => {
    const seen: NodeAddress[] = [];
    const endpoints = new Endpoints([parseNodeUrl("wss://a:1/oap")], (address) => {
      seen.push(address);
      return never;
    });
    endpoints.learn(["wss://b:2/oap"]);
    expect(seen.map((a) => `${a.transport} ${a.host}:${a.port}`)).toEqual(["wss a:1", "wss b:2"]);
  });
});

describe("connect() to several nodes", () => {
  const servers: Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
  });

  /** A port nothing listens on: a listener opened and closed again. */
  async function deadUrl(): Promise<string> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as { port: number };
    await new Promise((resolve) => server.close(resolve));
    return `oap+tls://127.0.0.1:${port}`;
  }

  it("names every node's failure when none answers, and stays retryable", async () => {
    const [first, second] = [await deadUrl(), await deadUrl()];
    const error = await connect([first, second], { insecure: true, connectTimeoutMs: 2_000 }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(OapConnectionError);
    const message = (error as Error).message;
    expect(message).toContain("no node of 2 answered");
    expect(message).toContain(first.slice("oap+tls://".length));
    expect(message).toContain(second.slice("oap+tls://".length));
    expect(error).toMatchObject({ reason: "connect_failed", retryable: true });
  });

  it("refuses an empty list of URLs", async () => {
    await expect(connect([], { insecure: true })).rejects.toThrow(/at least one node URL/);
  });
});
