import { decodeFrame, decodeStartPayload, encodeFrame, encodeMeta, Flags, HEADER_LEN } from "@omnigate/oap";
import { describe, expect, it } from "vitest";
import { BodyQueue } from "../src/client/body-queue.js";
import { requestFrames } from "../src/client/request-frames.js";
import { retryDelay } from "../src/client/retry.js";
import { InflightSlots } from "../src/client/slots.js";
import {
  backoffMs,
  normalizeFingerprint,
  OapConnectionError,
  OapRequestError,
  parseNodeUrl,
} from "../src/index.js";

describe("parseNodeUrl", () => {
  it("reads host and port, defaulting the port to 9443", () => {
    expect(parseNodeUrl("oap+tls://node.example:7000")).toEqual({
      transport: "tls",
      host: "node.example",
      port: 7000,
    });
    expect(parseNodeUrl("oap+tls://127.0.0.1")).toEqual({ transport: "tls", host: "127.0.0.1", port: 9443 });
    expect(parseNodeUrl("oap+tls://[::1]:9000")).toEqual({ transport: "tls", host: "::1", port: 9000 });
  });

  it("refuses other schemes, paths and garbage with a message naming the expected form", () => {
    expect(() => parseNodeUrl("https://node.example")).toThrow(
      /unsupported scheme "https".*oap\+tls:\/\/host:port/,
    );
    expect(() => parseNodeUrl("oap+tls://node.example/x")).toThrow(/path/);
    expect(() => parseNodeUrl("not a url")).toThrow(/not a valid URL/);
  });

  it("refuses user information, a query and a fragment", () => {
    for (const url of [
      "oap+tls://user:secret@node.example:7000",
      "oap+tls://user@node.example",
      "oap+tls://@node.example",
    ]) {
      expect(() => parseNodeUrl(url)).toThrow(TypeError);
      expect(() => parseNodeUrl(url)).toThrow(/user information/);
    }
    for (const url of [
      "oap+tls://node.example:7000?tenant=1",
      "oap+tls://node.example?",
      "oap+tls://node.example/?x",
    ]) {
      expect(() => parseNodeUrl(url)).toThrow(TypeError);
      expect(() => parseNodeUrl(url)).toThrow(/query/);
    }
    for (const url of ["oap+tls://node.example:7000#main", "oap+tls://node.example#"]) {
      expect(() => parseNodeUrl(url)).toThrow(TypeError);
      expect(() => parseNodeUrl(url)).toThrow(/fragment/);
    }
  });
});

describe("normalizeFingerprint", () => {
  const hex = "ab".repeat(32);
  it("accepts colon-separated, plain and prefixed forms", () => {
    expect(normalizeFingerprint(`${"AB:".repeat(31)}AB`)).toBe(hex);
    expect(normalizeFingerprint(hex.toUpperCase())).toBe(hex);
    expect(normalizeFingerprint(`sha256:${hex}`)).toBe(hex);
  });
  it("refuses anything that is not 32 bytes of hex", () => {
    expect(() => normalizeFingerprint("abcd")).toThrow(/SHA-256/);
  });
});

describe("backoff", () => {
  const policy = { baseMs: 100, capMs: 5_000, maxAttempts: 5 };
  it("draws full jitter under min(cap, base·2^attempt)", () => {
    expect(backoffMs(policy, 0, () => 0.999)).toBeLessThan(100);
    expect(backoffMs(policy, 3, () => 0.999)).toBeLessThan(800);
    expect(backoffMs(policy, 10, () => 0.999)).toBeLessThan(5_000);
    expect(backoffMs(policy, 2, () => 0)).toBe(0);
  });

  it("retries only retryable errors, within attempts and the deadline, at least retry_after_ms", () => {
    const busy = new OapRequestError(503, { reason: "overloaded", message: "x", retry_after_ms: 400 }, 1n);
    const bad = new OapRequestError(400, { reason: "bad_meta", message: "x" }, 1n);
    const lost = new OapConnectionError("gone");
    expect(retryDelay(busy, policy, 0, 10_000)).toBeGreaterThanOrEqual(400);
    expect(retryDelay(busy, policy, 0, 300)).toBeUndefined();
    expect(retryDelay(busy, policy, 4, 10_000)).toBeUndefined();
    expect(retryDelay(bad, policy, 0, 10_000)).toBeUndefined();
    expect(retryDelay(lost, policy, 0, 10_000)).toBeLessThan(100);
    expect(retryDelay(new Error("x"), policy, 0, 10_000)).toBeUndefined();
  });
});

describe("requestFrames", () => {
  const id = { appProtoId: 0x0101, tenantId: 5n, corrId: 9n, e2e: false };
  const maxFrame = 4096;

  it("puts meta and the first body bytes in START and the rest in continuations, none over max_frame", () => {
    const body = Buffer.alloc(3 * maxFrame + 17, 1);
    const frames = [
      ...requestFrames(
        id,
        { start: { meta: encodeMeta({ a: 1 }), cap: undefined }, body, end: true },
        maxFrame,
      ),
    ];
    const decoded = frames.map((f) => decodeFrame(encodeFrame(f)));
    for (const frame of decoded) expect(frame.len).toBeLessThanOrEqual(maxFrame);
    expect(decoded[0]?.flags).toBe(Flags.REQ | Flags.START);
    expect(decoded.at(-1)?.flags).toBe(Flags.REQ | Flags.END);
    for (const frame of decoded.slice(1, -1)) expect(frame.flags).toBe(Flags.REQ);
    const first = decodeStartPayload(decoded[0]?.payload ?? new Uint8Array());
    expect(first.meta).toEqual({ a: 1 });
    const all = Buffer.concat([first.body, ...decoded.slice(1).map((f) => f.payload)]);
    expect(all.equals(body)).toBe(true);
    expect(decoded.every((f) => f.corrId === 9n && f.tenantId === 5n)).toBe(true);
  });

  it("sends a small request as one REQ|START|END frame, with APP_E2E when asked", () => {
    const frames = [
      ...requestFrames(
        { ...id, e2e: true },
        { start: { meta: encodeMeta({}), cap: undefined }, body: Buffer.from("x"), end: true },
        maxFrame,
      ),
    ];
    expect(frames.map((f) => f.flags)).toEqual([Flags.REQ | Flags.START | Flags.END | Flags.APP_E2E]);
  });

  it("ends an open request with an empty REQ|END", () => {
    const frames = [...requestFrames(id, { body: new Uint8Array(0), end: true }, maxFrame)];
    expect(frames).toHaveLength(1);
    expect(frames[0]?.flags).toBe(Flags.REQ | Flags.END);
    expect(frames[0]?.payload?.byteLength).toBe(0);
  });

  it("refuses meta that cannot fit one frame", () => {
    const meta = encodeMeta({ big: "x".repeat(maxFrame) });
    expect(() => [
      ...requestFrames(id, { start: { meta, cap: undefined }, body: new Uint8Array(0), end: true }, maxFrame),
    ]).toThrow(/max_frame/);
    expect(HEADER_LEN).toBe(38);
  });
});

describe("InflightSlots", () => {
  it("hands slots out in FIFO order and lets a waiter leave on abort", async () => {
    const slots = new InflightSlots(1);
    await slots.acquire();
    const order: string[] = [];
    const controller = new AbortController();
    const a = slots.acquire().then(() => order.push("a"));
    const b = slots.acquire(controller.signal).catch(() => order.push("b aborted"));
    const c = slots.acquire().then(() => order.push("c"));
    controller.abort(new Error("gave up"));
    await b;
    slots.release();
    await a;
    slots.release();
    await c;
    expect(order).toEqual(["b aborted", "a", "c"]);
    expect(slots.inUse).toBe(1);
  });

  it("fails waiters and later callers once the connection is gone", async () => {
    const slots = new InflightSlots(1);
    await slots.acquire();
    const waiting = slots.acquire();
    slots.fail(new Error("lost"));
    await expect(waiting).rejects.toThrow("lost");
    await expect(slots.acquire()).rejects.toThrow("lost");
  });
});

describe("BodyQueue", () => {
  const queue = () => {
    const account = {
      held: 0,
      add(n: number) {
        account.held += n;
      },
      remove(n: number) {
        account.held -= n;
      },
    };
    return { account, body: new BodyQueue(account) };
  };

  it("drops what is buffered and what still arrives on discard(), and settles", async () => {
    const { account, body } = queue();
    let settled = false;
    body.onSettled(() => {
      settled = true;
    });
    body.push(Buffer.from("abc"));
    expect(account.held).toBe(3);
    body.discard();
    body.push(Buffer.from("late"));
    expect(account.held).toBe(0);
    expect(body.bufferedBytes).toBe(0);
    expect(settled).toBe(true);
    expect(await body.next()).toEqual({ value: undefined, done: true });
  });

  it("drops the unread chunks of an ended or failed body for dropUnread(), and the reader gets the error", async () => {
    const ended = queue();
    ended.body.push(Buffer.from("abc"));
    ended.body.end();
    ended.body.dropUnread(new Error("dropped"));
    expect(ended.account.held).toBe(0);
    await expect(ended.body.next()).rejects.toThrow("dropped");

    const failed = queue();
    failed.body.push(Buffer.from("abc"));
    failed.body.fail(new Error("node error"));
    expect(failed.account.held).toBe(3);
    failed.body.dropUnread(new Error("dropped"));
    expect(failed.account.held).toBe(0);
    expect(failed.body.isSettled).toBe(true);
    await expect(failed.body.next()).rejects.toThrow("dropped");

    const read = queue();
    read.body.push(Buffer.from("abc"));
    read.body.end();
    expect((await read.body.next()).value?.toString()).toBe("abc");
    read.body.dropUnread(new Error("dropped"));
    expect(await read.body.next()).toEqual({ value: undefined, done: true });
  });
});
