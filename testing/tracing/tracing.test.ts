import { readFileSync } from "node:fs";
import type { Meta } from "@omnigate/oap";
import { context, propagation, SpanKind, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { afterEach, describe, expect, it, vi } from "vitest";
import { captureLogs } from "../../packages/node/test/support/log-capture.js";
import { connect, type IncomingRequest } from "../../packages/sdk/src/index.js";
import { backendTls, clientOf, startBackend } from "../apps/support.js";
import { TestScope } from "../support/scope.js";

const scope = new TestScope();
afterEach(async () => {
  await scope.close();
  // Back to the API's defaults: no provider, no propagator, no context manager.
  trace.disable();
  propagation.disable();
  context.disable();
});

const APP = 0x1001;

/** What a user registers (docs/operations.md#tracing): a provider, the W3C propagator, a context manager. */
function registerTracing(): InMemorySpanExporter {
  const exporter = new InMemorySpanExporter();
  trace.setGlobalTracerProvider(
    new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }),
  );
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  return exporter;
}

/**
 * client → node → backend (serve()); the backend records the meta of each request it gets, and
 * the node's log lines are kept (debug: one per request).
 */
async function setup() {
  const tls = await backendTls(scope);
  const seen: Meta[] = [];
  const backend = await startBackend(scope, tls, async (req: IncomingRequest) => {
    seen.push(req.meta as Meta);
    await new Promise((resolve) => setTimeout(resolve, 1));
    // A span of the user's own, after an await: it must nest under the backend's SERVER span.
    trace.getTracer("test-app").startActiveSpan("user.work", (span) => span.end());
    return { body: "pong" };
  });
  const logs = captureLogs("debug");
  const node = await scope.node(
    {},
    {
      apps: [{ id: "0x1001", name: "traced-app", backend: backend.url, caFile: tls.caFile }],
      logger: logs.logger,
    },
  );
  const client = await clientOf(scope, node);
  return { tls, backend, node, client, seen, logs: logs.lines };
}

function one(spans: ReadableSpan[], name: string): ReadableSpan {
  const found = spans.filter((s) => s.name === name);
  expect(found.map((s) => s.name)).toEqual([name]);
  return found[0] as ReadableSpan;
}

function parentOf(span: ReadableSpan): string | undefined {
  return span.parentSpanContext?.spanId;
}

describe("tracing: one request is one trace across client → node → backend", () => {
  it("links every span by parent, with corr_id attributes and traceparent in meta", async () => {
    const exporter = registerTracing();
    const { client, seen, logs } = await setup();

    const reply = await client.request(APP, { body: "ping", meta: { op: "greet" } });
    expect(reply.body.toString()).toBe("pong");

    const names = [
      "oap.request",
      "omnigate.request",
      "omnigate.admission",
      "omnigate.dispatch",
      "oap.stream",
    ];
    await vi.waitFor(() => {
      const ended = exporter.getFinishedSpans().map((s) => s.name);
      for (const name of [...names, "omnigate.backend", "user.work"]) expect(ended).toContain(name);
    });
    const clientSpan = one(exporter.getFinishedSpans(), "oap.request");
    const traceId = clientSpan.spanContext().traceId;
    // The node's HELLO of each connection is a request of its own (its own trace): left out here.
    const spans = exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
    expect(spans.map((s) => s.name).sort()).toEqual([...names, "omnigate.backend", "user.work"].sort());

    const nodeServer = one(spans, "omnigate.request");
    const admission = one(spans, "omnigate.admission");
    const dispatch = one(spans, "omnigate.dispatch");
    const proxy = one(spans, "oap.stream");
    const backendServer = one(spans, "omnigate.backend");
    const userWork = one(spans, "user.work");

    expect(clientSpan.kind).toBe(SpanKind.CLIENT);
    expect(parentOf(clientSpan)).toBeUndefined();
    expect(nodeServer.kind).toBe(SpanKind.SERVER);
    expect(parentOf(nodeServer)).toBe(clientSpan.spanContext().spanId);
    expect(parentOf(admission)).toBe(nodeServer.spanContext().spanId);
    expect(parentOf(dispatch)).toBe(nodeServer.spanContext().spanId);
    expect(proxy.kind).toBe(SpanKind.CLIENT);
    expect(parentOf(proxy)).toBe(dispatch.spanContext().spanId);
    expect(backendServer.kind).toBe(SpanKind.SERVER);
    expect(parentOf(backendServer)).toBe(proxy.spanContext().spanId);
    expect(parentOf(userWork)).toBe(backendServer.spanContext().spanId);

    // corr_id: the client's stream and the node's are one stream on one connection; the
    // proxy's upstream stream and the backend's are another.
    const corrId = clientSpan.attributes["oap.corr_id"];
    expect(typeof corrId).toBe("string");
    expect(nodeServer.attributes["oap.corr_id"]).toBe(corrId);
    expect(typeof proxy.attributes["oap.corr_id"]).toBe("string");
    expect(backendServer.attributes["oap.corr_id"]).toBe(proxy.attributes["oap.corr_id"]);
    for (const span of [clientSpan, nodeServer, proxy, backendServer]) {
      expect(span.attributes).toMatchObject({
        "oap.app_proto_id": "0x1001",
        "oap.tenant_id": "0x0",
        "oap.op": "greet",
      });
    }
    expect(nodeServer.attributes["oap.status_code"]).toBe(200);
    expect(backendServer.attributes["oap.status_code"]).toBe(200);

    // On the wire: the backend got the proxy span's traceparent (the client's was replaced).
    expect(seen).toHaveLength(1);
    expect(seen[0]?.traceparent).toBe(`00-${traceId}-${proxy.spanContext().spanId}-01`);
    expect(seen[0]?.op).toBe("greet");

    // The node's request log line links the corr_id to the trace.
    expect(logs).toContainEqual(
      expect.objectContaining({ msg: "request", corr_id: corrId, trace_id: traceId }),
    );
  });

  it("records a failure's code and reason on the client span and the node's", async () => {
    const exporter = registerTracing();
    const { client } = await setup();
    await expect(client.request(0x1777, { body: "x" })).rejects.toMatchObject({ code: 404 });
    await vi.waitFor(() => expect(exporter.getFinishedSpans().map((s) => s.name)).toContain("oap.request"));
    const clientSpan = one(exporter.getFinishedSpans(), "oap.request");
    expect(clientSpan.attributes).toMatchObject({ "oap.status_code": 404, "oap.reason": "unknown_app" });
    await vi.waitFor(() => {
      const server = exporter
        .getFinishedSpans()
        .find((s) => s.name === "omnigate.request" && parentOf(s) === clientSpan.spanContext().spanId);
      expect(server?.attributes).toMatchObject({ "oap.status_code": 404, "oap.reason": "unknown_app" });
    });
  });

  it("adds nothing to meta when no tracer provider is registered", async () => {
    const { tls, backend, client, seen, logs } = await setup();
    // Through the node, and straight to the backend (what the SDK client itself puts on the wire).
    await client.request(APP, { body: "ping" });
    const direct = await connect(backend.url, { ca: readFileSync(tls.caFile) });
    scope.defer(() => direct.close());
    await direct.request(APP, { body: "ping" });
    const stream = direct.stream(APP, { meta: { kind: "stream" } });
    await stream.end("ping");
    await stream.response;
    for await (const _ of stream);
    expect(seen).toEqual([{}, {}, { kind: "stream" }]);
    const requests = logs.filter((line) => line.msg === "request" && line.app === "0x1001");
    expect(requests).toHaveLength(1);
    expect(requests[0]).not.toHaveProperty("trace_id");
  });
});
