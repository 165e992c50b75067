import { statSync } from "node:fs";
import { join } from "node:path";
import { encodeFrame, encodeStartPayload, Flags } from "@omnigate/oap";
import { afterEach, describe, expect, it } from "vitest";
import { TestScope } from "../../../testing/support/scope.js";
import { tempDir } from "../../../testing/support/temp-dir.js";
import { startNode } from "../src/index.js";

const scope = new TestScope();
afterEach(() => scope.close());

const startFrame = (corrId: bigint, meta: Record<string, unknown>, body: string, end = true) =>
  encodeFrame({
    flags: Flags.REQ | Flags.START | (end ? Flags.END : 0),
    appProtoId: 0x0101,
    corrId,
    payload: encodeStartPayload(meta, Buffer.from(body)),
  });

describe("node lifecycle", () => {
  it("creates a dev CA once, keeps keys private, and reuses it on restart", async () => {
    const dir = tempDir();
    scope.defer(dir.remove);
    const overrides = {
      listen: "127.0.0.1:0",
      wsListen: "127.0.0.1:0",
      admin: "127.0.0.1:0",
      dataDir: dir.path,
    };
    const first = await startNode({ overrides, logLevel: "silent" });
    await first.close();
    const second = await startNode({ overrides, logLevel: "silent" });
    await second.close();
    expect(first.tls.created).toBe(true);
    expect(second.tls.created).toBe(false);
    expect(second.caFingerprint).toBe(first.caFingerprint);
    expect(second.config.nodeId).toBe(first.config.nodeId);
    for (const key of ["ca-key.pem", "server-key.pem"]) {
      expect(statSync(join(dir.path, "tls", key)).mode & 0o777).toBe(0o600);
    }
  });

  it("answers /healthz and /readyz, and turns not-ready while draining", async () => {
    const n = await scope.node();
    expect((await fetch(`${n.adminUrl}/healthz`)).status).toBe(200);
    const ready = await fetch(`${n.adminUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ ready: true, load: { inflight: 0, connections: 0 } });
    expect((await fetch(`${n.adminUrl}/nope`)).status).toBe(404);

    // A stream that stays open keeps the drain going long enough to look at readiness.
    const c = await scope.raw(n);
    c.write(startFrame(1n, {}, "x", false));
    await c.waitFor((f) => f.corrId === 1n);
    const closing = n.close();
    expect(n.readiness()).toMatchObject({ ready: false, waitingFor: ["draining"] });
    c.write(encodeFrame({ flags: Flags.REQ | Flags.END, appProtoId: 0x0101, corrId: 1n }));
    await closing;
  });

  it("lets in-flight streams finish on close and refuses new ones with 503 shutting_down", async () => {
    const n = await scope.node();
    const c = await scope.raw(n);
    c.write(startFrame(1n, { k: "v" }, "first ", false));
    expect((await c.waitFor((f) => f.corrId === 1n))?.code).toBe(200);

    const closing = n.close();
    c.write(startFrame(2n, {}, "late"));
    const refused = await c.waitFor((f) => f.corrId === 2n);
    expect(refused?.code).toBe(503);
    expect(refused?.meta?.reason).toBe("shutting_down");

    c.write(
      encodeFrame({
        flags: Flags.REQ | Flags.END,
        appProtoId: 0x0101,
        corrId: 1n,
        payload: Buffer.from("last"),
      }),
    );
    const end = await c.waitFor((f) => f.corrId === 1n && (f.flags & Flags.END) !== 0);
    expect(end?.code).toBe(200);
    const echoed = c.frames
      .filter((f) => f.corrId === 1n)
      .map((f) => Buffer.from(f.body).toString())
      .join("");
    expect(echoed).toBe("first last");
    await closing;
    expect(await c.waitClosed()).toBe(true);
  });

  it("closes a stream that outlives its deadline with 504 timeout", async () => {
    const n = await scope.node();
    const c = await scope.raw(n);
    c.write(startFrame(9n, { deadline_ms: 100 }, "never ends", false));
    const timedOut = await c.waitFor((f) => f.corrId === 9n && f.code >= 400);
    expect(timedOut?.code).toBe(504);
    expect(timedOut?.meta?.reason).toBe("timeout");
    // The connection survives and the slot is free again.
    c.write(startFrame(10n, {}, "again"));
    expect((await c.waitFor((f) => f.corrId === 10n))?.code).toBe(200);
  });

  it("echoes bodies larger than max_frame across frames, and APP_E2E bodies byte-exact", async () => {
    const n = await scope.node({ maxFrame: 8192 });
    const c = await scope.raw(n);
    const body = Buffer.alloc(6000, 7);
    const payload = Buffer.alloc(8000);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 31) & 0xff;
    // The delay lets the whole 12,000-byte body arrive first, so the echo answers it in one
    // reply that must be split into frames of at most max_frame.
    c.write(startFrame(1n, { delay_ms: 50 }, "", false));
    c.write(encodeFrame({ flags: Flags.REQ, appProtoId: 0x0101, corrId: 1n, payload: body }));
    c.write(encodeFrame({ flags: Flags.REQ | Flags.END, appProtoId: 0x0101, corrId: 1n, payload: body }));
    await c.waitFor((f) => f.corrId === 1n && (f.flags & Flags.END) !== 0);
    const replies = c.frames.filter((f) => f.corrId === 1n);
    expect(replies.length).toBeGreaterThan(1);
    expect(Math.max(...replies.map((f) => f.len))).toBeLessThanOrEqual(8192);
    const got = Buffer.concat(replies.map((f) => f.body));
    expect(got.equals(Buffer.concat([body, body]))).toBe(true);

    c.write(
      encodeFrame({
        flags: Flags.REQ | Flags.START | Flags.END | Flags.APP_E2E,
        appProtoId: 0x0101,
        corrId: 2n,
        payload: encodeStartPayload({ to: "peer" }, payload.subarray(0, 7000)),
      }),
    );
    const e2e = await c.waitFor((f) => f.corrId === 2n && (f.flags & Flags.END) !== 0);
    expect(e2e && (e2e.flags & Flags.APP_E2E) !== 0).toBe(true);
    const e2eBody = Buffer.concat(c.frames.filter((f) => f.corrId === 2n).map((f) => f.body));
    expect(e2eBody.equals(payload.subarray(0, 7000))).toBe(true);
  });
});
