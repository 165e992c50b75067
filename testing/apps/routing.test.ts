import { randomBytes } from "node:crypto";
import { encodeFrame, encodeStartPayload, Flags } from "@omnigate/oap";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../packages/node/src/index.js";
import { OapRequestError } from "../../packages/sdk/src/index.js";
import { TestScope } from "../support/scope.js";
import { tempDir } from "../support/temp-dir.js";
import { clientOf, EchoBackendProcess, generatedByte, routingNode } from "./support.js";

const scope = new TestScope();
afterEach(() => scope.close());

const ECHO_APP = 0x1001;

async function echoSetup() {
  const tlsDir = tempDir("omnigate-echo-backend-");
  scope.defer(tlsDir.remove);
  const backend = await EchoBackendProcess.start(scope, tlsDir.path);
  const node = await routingNode(scope, [
    { id: "0x1001", name: "echo-backend", backend: backend.url, caFile: backend.caFile },
  ]);
  const client = await clientOf(scope, node);
  return { tlsDir: tlsDir.path, backend, node, client };
}

describe("app routing: client → node → echo backend (examples/echo/echo-backend.ts)", () => {
  it("forwards requests and streams with tenant, meta and APP_E2E bodies unchanged", async () => {
    const { node, client } = await echoSetup();
    expect(client.hello.services).toContainEqual({ app_proto_id: ECHO_APP, name: "echo-backend" });

    const meta = { greeting: "hello", nested: { list: [1, "two", null] }, traceparent: "00-abc" };
    const reply = await client.request(ECHO_APP, { meta, body: "ping", tenant: 42n });
    expect(reply.code).toBe(200);
    expect(reply.body.toString()).toBe("ping");
    expect(reply.e2e).toBe(false);
    // The backend saw the client's meta as sent, the client's tenant and the app id.
    expect(reply.meta).toMatchObject(meta);
    expect(reply.meta.backend).toMatchObject({ app: "0x1001", tenant: "42", e2e: false });

    // APP_E2E: one frame and many frames (3 MiB, written in uneven pieces), byte-exact both ways.
    const sealed = randomBytes(100_000);
    const e2eReply = await client.request(ECHO_APP, { body: sealed, e2e: true, tenant: 7n });
    expect(e2eReply.e2e).toBe(true);
    expect(e2eReply.meta.backend).toMatchObject({ tenant: "7", e2e: true });
    expect(Buffer.compare(e2eReply.body, sealed)).toBe(0);

    const large = randomBytes(3 * 1024 * 1024 + 17);
    const stream = client.stream(ECHO_APP, { e2e: true, meta: { kind: "large" }, tenant: 9n });
    const received: Buffer[] = [];
    const reading = (async () => {
      for await (const chunk of stream) received.push(chunk);
    })();
    await stream.write(large.subarray(0, 1000));
    await stream.write(large.subarray(1000, 2_500_000));
    await stream.end(large.subarray(2_500_000));
    const head = await stream.response;
    await reading;
    expect(head).toMatchObject({ code: 200, e2e: true, meta: { kind: "large", backend: { tenant: "9" } } });
    expect(Buffer.compare(Buffer.concat(received), large)).toBe(0);

    // Many at once, each with its own tenant: corr_ids are remapped per backend connection.
    const tenants = Array.from({ length: 60 }, (_, i) => BigInt(i + 1) << 100n);
    const replies = await Promise.all(
      tenants.map((tenant, i) => client.request(ECHO_APP, { tenant, body: `n${i}`, meta: { i } })),
    );
    replies.forEach((r, i) => {
      expect(r.body.toString()).toBe(`n${i}`);
      expect(r.meta).toMatchObject({ i, backend: { tenant: String(tenants[i]) } });
    });

    // On the wire, the node's reply frames carry the request's tenant_id.
    const raw = await scope.raw(node);
    const tenant = (1n << 127n) + 5n;
    raw.write(
      encodeFrame({
        flags: Flags.REQ | Flags.START | Flags.END | Flags.APP_E2E,
        appProtoId: ECHO_APP,
        tenantId: tenant,
        corrId: 77n,
        payload: encodeStartPayload({}, Buffer.from([0, 1, 2, 255])),
      }),
    );
    const frame = await raw.waitFor((f) => f.corrId === 77n);
    expect(frame).toMatchObject({ code: 200, tenantId: tenant, appProtoId: ECHO_APP });
    expect((frame?.flags ?? 0) & Flags.APP_E2E).toBe(Flags.APP_E2E);
    expect([...(frame?.body ?? [])]).toEqual([0, 1, 2, 255]);

    // The backend's own errors come through with their code and reason.
    await expect(client.request(ECHO_APP, { meta: { generate_bytes: "many" } })).rejects.toMatchObject({
      code: 400,
      reason: "bad_meta",
    });
    expect(node.appStats()[0]).toMatchObject({
      id: ECHO_APP,
      backendErrors: 1,
      backendUnavailable: 0,
      open: 0,
    });
  });

  it("answers 502 on the stream whose backend died, keeps serving, and resumes when the backend is back", async () => {
    const { tlsDir, backend, node, client } = await echoSetup();

    // A long reply under way through the backend, and a stream to the node's own echo beside it.
    const doomed = client.stream(ECHO_APP, { meta: { generate_bytes: 1024 ** 3 } });
    await doomed.end();
    const chunks = doomed[Symbol.asyncIterator]();
    const first = await chunks.next();
    expect(first.value?.[1]).toBe(generatedByte(1));
    const bystander = client.stream(0x0101, { meta: { side: "by" } });
    await bystander.write("before ");
    expect((await bystander.response).code).toBe(200);

    await backend.kill();
    let failure: unknown;
    try {
      while (!(await chunks.next()).done) {}
    } catch (error) {
      failure = error;
    }
    expect(failure).toBeInstanceOf(OapRequestError);
    expect(failure).toMatchObject({ code: 502, reason: "backend_unavailable" });

    // The other stream and the node carry on.
    await bystander.end("after");
    const echoed: Buffer[] = [];
    for await (const chunk of bystander) echoed.push(chunk);
    expect(Buffer.concat(echoed).toString()).toBe("before after");
    expect((await client.request(0x0101, { body: "still here" })).body.toString()).toBe("still here");

    // While the backend is down, its app gets 502 at once rather than a hang.
    await expect(client.request(ECHO_APP, { body: "x" })).rejects.toMatchObject({
      code: 502,
      reason: "backend_unavailable",
    });
    expect(node.appStats()[0]?.backendUnavailable).toBeGreaterThanOrEqual(2);

    // Back on the same address: traffic resumes without touching the node.
    await EchoBackendProcess.start(scope, tlsDir, backend.port);
    // Every pooled connection dials again on its next stream.
    const again = await Promise.all(
      [1, 2, 3, 4].map((i) => client.request(ECHO_APP, { body: `again ${i}` })),
    );
    expect(again.map((r) => r.body.toString())).toEqual(["again 1", "again 2", "again 3", "again 4"]);
  });
});

describe("examples/echo/node.toml", () => {
  it("is a config the node accepts, routing 0x1001 to the echo backend", () => {
    const file = new URL("../../examples/echo/node.toml", import.meta.url).pathname;
    const config = loadConfig({ env: {}, file });
    expect(config.apps).toEqual([
      expect.objectContaining({ id: ECHO_APP, name: "echo-backend", backend: "oap+tls://127.0.0.1:9701" }),
    ]);
  });
});
