import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { loadTlsMaterial } from "@omnigate/node";
import { encodeFrame, encodeStartPayload, Flags, OapError } from "@omnigate/oap";
import { afterEach, describe, expect, it } from "vitest";
import { RawOapConnection } from "../../../testing/support/raw-oap.js";
import { tempDir } from "../../../testing/support/temp-dir.js";
import {
  type AppHandler,
  type AppReply,
  type AppServer,
  connect,
  type IncomingRequest,
  type OapClient,
  type ServeOptions,
  serve,
} from "../src/index.js";

const APP = 0x1001;
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function backend(
  handler: AppHandler,
  options: Partial<ServeOptions> = {},
): Promise<{ server: AppServer; client: OapClient; ca: string }> {
  const dir = tempDir("omnigate-serve-test-");
  cleanups.push(dir.remove);
  const tls = await loadTlsMaterial({ dataDir: dir.path, cert: "", key: "" });
  const server = await serve({ appId: APP, name: "test-app", tls, handler, ...options });
  cleanups.push(() => server.close(0));
  const ca = readFileSync(tls.caFile as string, "utf8");
  const client = await connect(server.url, { ca });
  cleanups.push(() => client.close());
  return { server, client, ca };
}

async function raw(server: AppServer, ca: string): Promise<RawOapConnection> {
  const conn = await RawOapConnection.open(server.url, ca);
  cleanups.push(() => conn.close());
  return conn;
}

describe("serve()", () => {
  it("answers HELLO with its limits and app, and hands the handler meta, tenant, corr_id, body and e2e", async () => {
    const seen: Array<Pick<IncomingRequest, "meta" | "tenantId" | "corrId" | "e2e" | "appProtoId">> = [];
    const { client } = await backend(
      (req) => {
        const { meta, tenantId, corrId, e2e, appProtoId } = req;
        seen.push({ meta, tenantId, corrId, e2e, appProtoId });
        return { meta: { got: meta }, body: req.completeBody(), e2e: req.e2e };
      },
      { limits: { maxInflight: 7 } },
    );
    expect(client.hello).toMatchObject({
      max_inflight: 7,
      max_frame: 1_048_576,
      services: [
        { app_proto_id: 0, name: "control" },
        { app_proto_id: APP, name: "test-app" },
      ],
    });

    const sealed = randomBytes(5000);
    const reply = await client.request(APP, { meta: { op: "x" }, body: sealed, tenant: 99n, e2e: true });
    expect(reply).toMatchObject({ code: 200, e2e: true, meta: { got: { op: "x" } } });
    expect(Buffer.compare(reply.body, sealed)).toBe(0);
    expect(seen).toEqual([
      { meta: { op: "x" }, tenantId: 99n, corrId: expect.any(BigInt), e2e: true, appProtoId: APP },
    ]);
  });

  it("streams replies from an async iterable or through res, and streams request bodies in", async () => {
    const { client } = await backend(async (req, res) => {
      if (req.meta.via === "iterable") {
        return {
          code: 206,
          meta: { via: "iterable" },
          body: (async function* () {
            yield Buffer.from("a");
            yield Buffer.from("b");
          })(),
        };
      }
      if (req.meta.via === "string") return { body: "text" };
      // Sum the streamed request body, then answer through res.
      let total = 0;
      for await (const chunk of req.body) total += chunk.byteLength;
      await res.start(200, { total });
      await res.write(Buffer.from("x"));
      res.end(Buffer.from("y"));
      return undefined;
    });
    const iterable = await client.request(APP, { meta: { via: "iterable" } });
    expect(iterable).toMatchObject({ code: 206, meta: { via: "iterable" } });
    expect(iterable.body.toString()).toBe("ab");
    expect((await client.request(APP, { meta: { via: "string" } })).body.toString()).toBe("text");

    const stream = client.stream(APP);
    await stream.write(Buffer.alloc(2_000_000));
    await stream.end(Buffer.alloc(5));
    expect((await stream.response).meta).toEqual({ total: 2_000_005 });
    const body: Buffer[] = [];
    for await (const chunk of stream) body.push(chunk);
    expect(Buffer.concat(body).toString()).toBe("xy");
  });

  it("turns thrown OapErrors into their error frames and anything else into 500 internal", async () => {
    const { client } = await backend((req) => {
      if (req.meta.fail === "oap") throw new OapError("not_found", "no such thing");
      if (req.meta.fail === "quota") throw new OapError("quota", "slow down", { retryAfterMs: 250 });
      if (req.meta.fail === "async") return Promise.reject<AppReply>(new Error("secret detail"));
      if (req.meta.fail === "silent") return undefined;
      throw new Error("secret detail");
    });
    await expect(client.request(APP, { meta: { fail: "oap" } })).rejects.toMatchObject({
      code: 404,
      reason: "not_found",
      message: "no such thing",
    });
    await expect(client.request(APP, { meta: { fail: "quota" } })).rejects.toMatchObject({
      code: 429,
      reason: "quota",
      retryAfterMs: 250,
    });
    for (const fail of ["bug", "async", "silent"]) {
      const error = await client.request(APP, { meta: { fail } }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 500, reason: "internal" });
      expect((error as Error).message).not.toContain("secret");
    }
  });

  it("refuses other app ids with 404 unknown_app", async () => {
    const { client } = await backend(() => ({ body: "ok" }));
    await expect(client.request(0x1002)).rejects.toMatchObject({ code: 404, reason: "unknown_app" });
    await expect(client.request(0x0101)).rejects.toMatchObject({ code: 404, reason: "unknown_app" });
    expect((await client.request(APP)).body.toString()).toBe("ok");
  });

  it("enforces max_inflight and the header rules like the node", async () => {
    const { server, ca } = await backend(
      async (req) => {
        for await (const _ of req.body) {
        }
        return { body: "done" };
      },
      { limits: { maxInflight: 2 } },
    );
    const conn = await raw(server, ca);
    const open = (corrId: bigint) =>
      encodeFrame({
        flags: Flags.REQ | Flags.START,
        appProtoId: APP,
        corrId,
        payload: encodeStartPayload({}),
      });
    conn.write(Buffer.concat([open(1n), open(2n), open(3n)]));
    expect(await conn.waitFor((f) => f.corrId === 3n)).toMatchObject({
      code: 429,
      meta: { reason: "too_many_streams" },
    });
    conn.write(encodeFrame({ flags: Flags.REQ | Flags.END, appProtoId: APP, corrId: 1n }));
    expect((await conn.waitFor((f) => f.corrId === 1n))?.code).toBe(200);

    // A header with version 2: an error frame, then the connection closes.
    const bad = encodeFrame({ flags: Flags.REQ | Flags.START | Flags.END, appProtoId: APP, corrId: 9n });
    bad.writeUInt16BE(2, 4);
    conn.write(bad);
    expect(await conn.waitFor((f) => f.meta?.reason === "bad_version")).toMatchObject({ code: 400 });
    expect(await conn.waitClosed()).toBe(true);
  });

  it("checks its app id", async () => {
    const tls = { cert: "", key: "" };
    await expect(serve({ appId: 0, tls, handler: () => undefined })).rejects.toThrow(RangeError);
    await expect(serve({ appId: 0x10000, tls, handler: () => undefined })).rejects.toThrow(RangeError);
  });
});
