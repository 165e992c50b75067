import { afterEach, describe, expect, it } from "vitest";
import type { IncomingRequest } from "../../packages/sdk/src/index.js";
import { eventually } from "../../packages/sdk/test/support/node.js";
import { freePort } from "../support/free-port.js";
import { TestScope } from "../support/scope.js";
import { backendTls, clientOf, generatedByte, routingNode, startBackend } from "./support.js";

const scope = new TestScope();
afterEach(() => scope.close());

/** Resolves when the request is torn down (the node gave up on it, or its connection went). */
const untilAborted = (req: IncomingRequest) =>
  new Promise<void>((resolve) => req.signal.addEventListener("abort", () => resolve(), { once: true }));

describe("app backends that are slow or busy", () => {
  it("answers 504 backend_timeout when the backend does not start, or does not continue, its reply in time", async () => {
    const tls = await backendTls(scope);
    const backend = await startBackend(scope, tls, async (req, res) => {
      if (req.meta.mode === "silent") return untilAborted(req).then(() => undefined);
      if (req.meta.mode === "stalls") {
        await res.start(200, { mode: "stalls" }, Buffer.from("first"));
        await untilAborted(req);
        return undefined;
      }
      return { body: "prompt" };
    });
    const node = await routingNode(scope, [
      { id: 0x1001, name: "slow", backend: backend.url, caFile: tls.caFile, timeoutMs: 300 },
    ]);
    const client = await clientOf(scope, node);

    await expect(client.request(0x1001, { meta: { mode: "silent" } })).rejects.toMatchObject({
      code: 504,
      reason: "backend_timeout",
    });

    const stream = client.stream(0x1001, { meta: { mode: "stalls" } });
    await stream.end();
    expect(await stream.response).toMatchObject({ code: 200, meta: { mode: "stalls" } });
    const received: string[] = [];
    const failure = await (async () => {
      for await (const chunk of stream) received.push(chunk.toString());
    })().catch((error: unknown) => error);
    expect(received).toEqual(["first"]);
    expect(failure).toMatchObject({ code: 504, reason: "backend_timeout" });

    // The same backend still answers requests that it does answer.
    expect((await client.request(0x1001)).body.toString()).toBe("prompt");
    expect(node.appStats()[0]).toMatchObject({ backendTimeout: 2, replied: 1, open: 0 });
  });

  it("does not count a client that reads slowly against the backend's timeout", async () => {
    const tls = await backendTls(scope);
    const total = 16 * 1024 * 1024;
    const backend = await startBackend(scope, tls, () => ({
      body: (async function* () {
        for (let sent = 0; sent < total; sent += 64 * 1024) yield Buffer.alloc(64 * 1024, 7);
      })(),
    }));
    const node = await routingNode(scope, [
      { id: 0x1001, name: "bulk", backend: backend.url, caFile: tls.caFile, timeoutMs: 200, poolSize: 1 },
    ]);
    const client = await clientOf(scope, node, { maxBufferedBytes: 256 * 1024 });
    const stream = client.stream(0x1001);
    await stream.end();
    const chunks = stream[Symbol.asyncIterator]();
    let received = (await chunks.next()).value?.byteLength ?? 0;
    // Not reading for well past timeout_ms: the node waits on the client then, not on the backend.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    for (let next = await chunks.next(); !next.done; next = await chunks.next())
      received += next.value.byteLength;
    expect(received).toBe(total);
    expect(node.appStats()[0]).toMatchObject({ backendTimeout: 0, replied: 1 });
  });

  it("times out a stream still queued for one of the backend's own max_inflight slots", async () => {
    const tls = await backendTls(scope);
    const backend = await startBackend(
      scope,
      tls,
      async (req) => {
        if (req.meta.hold) await untilAborted(req);
        return { body: "done" };
      },
      { limits: { maxInflight: 1 } },
    );
    const node = await routingNode(scope, [
      { id: 0x1001, name: "one-slot", backend: backend.url, caFile: tls.caFile, poolSize: 1, timeoutMs: 300 },
    ]);
    const client = await clientOf(scope, node);
    const holder = client.request(0x1001, { meta: { hold: true } });
    // Handled from the start: the holder may time out (and reject) before the other one does.
    const holderRefused = expect(holder).rejects.toMatchObject({ code: 504, reason: "backend_timeout" });
    // The backend's only slot is taken: this one waits in the node for it, then times out.
    await expect(client.request(0x1001)).rejects.toMatchObject({ code: 504, reason: "backend_timeout" });
    await holderRefused;
    expect(node.appStats()[0]).toMatchObject({ backendTimeout: 2, open: 0 });
  });

  it("refuses streams beyond the app's max_inflight with 503 overloaded, then takes them again", async () => {
    const tls = await backendTls(scope);
    const releases: Array<() => void> = [];
    const backend = await startBackend(scope, tls, async (req) => {
      if (req.meta.hold) await new Promise<void>((resolve) => releases.push(resolve));
      return { body: "done" };
    });
    const node = await routingNode(scope, [
      { id: 0x1001, name: "narrow", backend: backend.url, caFile: tls.caFile, maxInflight: 2 },
    ]);
    const client = await clientOf(scope, node);

    const held = [1, 2].map(() => client.request(0x1001, { meta: { hold: true } }));
    while (releases.length < 2) await new Promise((resolve) => setTimeout(resolve, 10));
    await expect(client.request(0x1001)).rejects.toMatchObject({ code: 503, reason: "overloaded" });
    for (const release of releases) release();
    expect((await Promise.all(held)).map((r) => r.body.toString())).toEqual(["done", "done"]);
    expect((await client.request(0x1001)).body.toString()).toBe("done");
    expect(node.appStats()[0]).toMatchObject({ overloaded: 1, replied: 3 });
  });

  it("routes private ids without a registry entry and keeps apps apart", async () => {
    const tls = await backendTls(scope);
    const a = await startBackend(scope, tls, (req) => ({ body: `a:${req.appProtoId.toString(16)}` }));
    const b = await startBackend(scope, tls, (req) => ({ body: `b:${req.appProtoId.toString(16)}` }), {
      appId: 0xf00d,
    });
    const node = await routingNode(scope, [
      { id: "0x1001", name: "a", backend: a.url, caFile: tls.caFile },
      { id: "0xF00D", name: "b", backend: b.url, caFile: tls.caFile, poolSize: 1 },
    ]);
    const client = await clientOf(scope, node);
    expect((await client.request(0x1001)).body.toString()).toBe("a:1001");
    expect((await client.request(0xf00d)).body.toString()).toBe("b:f00d");
    await expect(client.request(0x1002)).rejects.toMatchObject({ code: 404, reason: "unknown_app" });
  });

  it("starts before its backend does: 502 until the backend is up, then traffic flows", async () => {
    const port = await freePort();
    const tls = await backendTls(scope);
    const node = await routingNode(scope, [
      { id: 0x1001, name: "late", backend: `oap+tls://127.0.0.1:${port}`, caFile: tls.caFile },
    ]);
    const client = await clientOf(scope, node);
    await expect(client.request(0x1001)).rejects.toMatchObject({ code: 502, reason: "backend_unavailable" });
    await startBackend(scope, tls, () => ({ body: "up" }), { port });
    expect((await client.request(0x1001)).body.toString()).toBe("up");
  });

  it("stops relaying a reply whose client went away, and keeps serving", async () => {
    const tls = await backendTls(scope);
    const backend = await startBackend(scope, tls, () => ({
      body: (async function* () {
        for (let i = 0; ; i++) yield Buffer.alloc(64 * 1024, generatedByte(i));
      })(),
    }));
    const node = await routingNode(scope, [
      { id: 0x1001, name: "endless", backend: backend.url, caFile: tls.caFile },
    ]);
    const leaving = await clientOf(scope, node);
    const stream = leaving.stream(0x1001);
    await stream.end();
    const first = await stream[Symbol.asyncIterator]().next();
    expect(first.value?.byteLength).toBeGreaterThan(0);
    expect(node.appStats()[0]?.open).toBe(1);

    node.dropConnections();
    await eventually(() => node.appStats()[0]?.open === 0);
    const staying = await clientOf(scope, node);
    expect((await staying.request(0x0101, { body: "fine" })).body.toString()).toBe("fine");
  });
});
