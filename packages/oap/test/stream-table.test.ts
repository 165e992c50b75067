import { describe, expect, it } from "vitest";
import {
  AppProtoId,
  DEFAULT_MAX_INFLIGHT,
  decodeFrame,
  encodeFrame,
  encodeStartPayload,
  Flags,
  type Frame,
  type FrameInit,
  OapError,
  RequestStreamTable,
  type StreamAction,
} from "../src/internal.js";

// The stream rules of specs/oap-1.md §4, as kept by the side that receives requests.

const { REQ, RESP, EVENT, START, END } = Flags;

/** A real frame, through the codec, so the table sees what a decoder yields. */
function frame(init: Partial<FrameInit> & { flags: number; corrId: bigint }): Frame {
  const isStart = (init.flags & START) !== 0;
  return decodeFrame(
    encodeFrame({
      appProtoId: AppProtoId.ECHO,
      ...init,
      payload: init.payload ?? (isStart ? encodeStartPayload({}, Buffer.from("body")) : Buffer.from("more")),
    }),
  );
}

const startFrame = (corrId: bigint, extra: Partial<FrameInit> = {}) =>
  frame({ flags: REQ | START, corrId, ...extra });
const oneShot = (corrId: bigint, extra: Partial<FrameInit> = {}) =>
  frame({ flags: REQ | START | END, corrId, ...extra });
const cont = (corrId: bigint, extra: Partial<FrameInit> = {}) => frame({ flags: REQ, corrId, ...extra });
const endFrame = (corrId: bigint, extra: Partial<FrameInit> = {}) =>
  frame({ flags: REQ | END, corrId, ...extra });

function expectReject(
  action: StreamAction,
  reason: string,
  code: number,
): Extract<StreamAction, { kind: "reject" }> {
  expect(action.kind).toBe("reject");
  const reject = action as Extract<StreamAction, { kind: "reject" }>;
  expect(reject.error).toBeInstanceOf(OapError);
  expect(reject.error.reason).toBe(reason);
  expect(reject.error.code).toBe(code);
  expect(reject.error.fatal).toBe(false);
  return reject;
}

const expectViolation = (action: StreamAction) => expectReject(action, "stream_violation", 400);

describe("happy paths", () => {
  it("opens and ends a one-frame request (REQ|START|END) and keeps it in flight until finish()", () => {
    const table = new RequestStreamTable(4);
    const action = table.classify(oneShot(1n, { tenantId: 9n }));
    expect(action.kind).toBe("start");
    if (action.kind !== "start") return;
    expect(action.stream).toEqual({
      corrId: 1n,
      appProtoId: AppProtoId.ECHO,
      tenantId: 9n,
      requestEnded: true,
      key: 1,
    });
    expect(action.frame.corrId).toBe(1n);
    expect(table.size).toBe(1);
    expect(table.get(1n)).toBe(action.stream);
    table.finish(action.stream);
    expect(table.size).toBe(0);
    expect(table.get(1n)).toBeUndefined();
  });

  it("follows a multi-frame request from START through continuations to END", () => {
    const table = new RequestStreamTable(4);
    const first = table.classify(startFrame(2n));
    expect(first.kind).toBe("start");
    if (first.kind !== "start") return;
    expect(first.stream.requestEnded).toBe(false);

    const middle = table.classify(cont(2n));
    expect(middle).toMatchObject({ kind: "continue", stream: first.stream });
    expect(first.stream.requestEnded).toBe(false);

    const last = table.classify(endFrame(2n));
    expect(last).toMatchObject({ kind: "continue", stream: first.stream });
    expect(first.stream.requestEnded).toBe(true);
    expect(table.size).toBe(1);
  });

  it("keeps interleaved streams apart by corr_id", () => {
    const table = new RequestStreamTable(4);
    expect(table.classify(startFrame(10n, { tenantId: 1n })).kind).toBe("start");
    expect(table.classify(startFrame(11n, { tenantId: 2n, appProtoId: 0x1234 })).kind).toBe("start");
    expect(table.classify(endFrame(10n, { tenantId: 1n })).kind).toBe("continue");
    expect(table.classify(cont(11n, { tenantId: 2n, appProtoId: 0x1234 })).kind).toBe("continue");
    expect(table.get(10n)?.requestEnded).toBe(true);
    expect(table.get(11n)?.requestEnded).toBe(false);
    expect([...table.streams()].map((s) => s.corrId).sort()).toEqual([10n, 11n]);
  });

  it("passes EVENT frames through without opening a stream", () => {
    const table = new RequestStreamTable(1);
    table.classify(startFrame(1n));
    const action = table.classify(frame({ flags: EVENT | START | END, corrId: 2n }));
    expect(action.kind).toBe("event");
    expect(table.size).toBe(1);
    expect(table.get(2n)).toBeUndefined();
  });

  it("lets a corr_id be reused once its stream is finished", () => {
    const table = new RequestStreamTable(4);
    const first = table.classify(oneShot(5n));
    if (first.kind === "start") table.finish(first.stream);
    expect(table.classify(oneShot(5n)).kind).toBe("start");
  });
});

describe("stream violations (400 stream_violation, the connection stays open)", () => {
  it("rejects a RESP frame from the client", () => {
    const table = new RequestStreamTable(4);
    const reject = expectViolation(
      table.classify(frame({ flags: RESP | START | END, code: 200, corrId: 1n })),
    );
    expect(reject.aborts).toBeUndefined();
    expect(table.size).toBe(0);
  });

  it("rejects a RESP frame on an open corr_id and aborts that stream", () => {
    const table = new RequestStreamTable(4);
    table.classify(startFrame(1n));
    const reject = expectViolation(table.classify(frame({ flags: RESP | END, code: 200, corrId: 1n })));
    expect(reject.aborts?.corrId).toBe(1n);
    expect(table.size).toBe(0);
  });

  it("rejects request frames whose code is not 0", () => {
    const table = new RequestStreamTable(4);
    expectViolation(table.classify(oneShot(1n, { code: 200 })));
    expect(table.size).toBe(0);

    table.classify(startFrame(2n));
    const reject = expectViolation(table.classify(cont(2n, { code: 1 })));
    expect(reject.aborts?.corrId).toBe(2n);
  });

  it("rejects a second START on an open corr_id and aborts the open stream", () => {
    const table = new RequestStreamTable(4);
    const opened = table.classify(startFrame(7n));
    if (opened.kind !== "start") throw new Error("expected a start");
    table.classify(startFrame(8n));
    const reject = expectViolation(table.classify(startFrame(7n)));
    expect(reject.aborts).toBe(opened.stream);
    expect(table.get(7n)).toBeUndefined();
    expect(table.get(8n)).toBeDefined();
    // The corr_id is gone for both sides: its continuations are judged afresh, not dropped.
    expectViolation(table.classify(cont(7n)));
  });

  it("rejects a second START on a corr_id whose request ended but whose response is still open", () => {
    const table = new RequestStreamTable(4);
    table.classify(oneShot(7n));
    expect(expectViolation(table.classify(oneShot(7n))).aborts?.corrId).toBe(7n);
  });

  it("rejects a continuation with no open stream", () => {
    const table = new RequestStreamTable(4);
    const reject = expectViolation(table.classify(cont(3n)));
    expect(reject.aborts).toBeUndefined();
    expectViolation(table.classify(endFrame(3n)));
    expect(table.size).toBe(0);
  });

  it("rejects a continuation after the request's END and aborts the stream", () => {
    const table = new RequestStreamTable(4);
    table.classify(startFrame(4n));
    table.classify(endFrame(4n));
    const reject = expectViolation(table.classify(cont(4n)));
    expect(reject.aborts).toMatchObject({ corrId: 4n, requestEnded: true });
    expect(table.size).toBe(0);

    table.classify(oneShot(5n));
    expectViolation(table.classify(endFrame(5n)));
  });

  it("rejects a continuation that changes tenant_id", () => {
    const table = new RequestStreamTable(4);
    table.classify(startFrame(6n, { tenantId: 1n }));
    const reject = expectViolation(table.classify(endFrame(6n, { tenantId: 2n })));
    expect(reject.aborts?.tenantId).toBe(1n);
    expect(table.size).toBe(0);
  });

  it("rejects a continuation that changes app_proto_id", () => {
    const table = new RequestStreamTable(4);
    table.classify(startFrame(6n, { appProtoId: AppProtoId.ECHO }));
    const reject = expectViolation(table.classify(cont(6n, { appProtoId: AppProtoId.MAILBOX })));
    expect(reject.aborts?.appProtoId).toBe(AppProtoId.ECHO);
    expect(table.size).toBe(0);
  });
});

describe("max_inflight (429 too_many_streams)", () => {
  it("refuses a START once max_inflight streams are open, with a retry hint", () => {
    const table = new RequestStreamTable(2);
    expect(table.classify(startFrame(1n)).kind).toBe("start");
    expect(table.classify(oneShot(2n)).kind).toBe("start");
    const reject = expectReject(table.classify(startFrame(3n)), "too_many_streams", 429);
    expect(reject.error.retryAfterMs).toBeGreaterThan(0);
    expect(reject.aborts).toBeUndefined();
    expect(table.size).toBe(2);
    expect(table.get(3n)).toBeUndefined();
  });

  it("counts a stream until finish(), even after its request ended", () => {
    const table = new RequestStreamTable(2);
    table.classify(oneShot(1n));
    table.classify(oneShot(2n));
    expectReject(table.classify(oneShot(3n)), "too_many_streams", 429);
  });

  it("drops the refused stream's continuations silently up to and including its END", () => {
    const table = new RequestStreamTable(1);
    table.classify(startFrame(1n));
    expectReject(table.classify(startFrame(2n)), "too_many_streams", 429);
    expect(table.classify(cont(2n))).toEqual({ kind: "drop" });
    expect(table.classify(cont(2n))).toEqual({ kind: "drop" });
    expect(table.classify(endFrame(2n))).toEqual({ kind: "drop" });
    // After its END the refused stream is forgotten.
    expectViolation(table.classify(cont(2n)));
    // The open stream was not disturbed.
    expect(table.classify(endFrame(1n)).kind).toBe("continue");
  });

  it("does not remember a refused one-frame request, so a later continuation is a violation", () => {
    const table = new RequestStreamTable(1);
    table.classify(startFrame(1n));
    expectReject(table.classify(oneShot(2n)), "too_many_streams", 429);
    expectViolation(table.classify(endFrame(2n)));
  });

  it("frees a slot on finish(), and a refused corr_id can start again", () => {
    const table = new RequestStreamTable(1);
    const first = table.classify(oneShot(1n));
    expectReject(table.classify(startFrame(2n)), "too_many_streams", 429);
    if (first.kind === "start") table.finish(first.stream);
    expect(table.size).toBe(0);
    const again = table.classify(startFrame(2n));
    expect(again.kind).toBe("start");
    // Its continuations now belong to the open stream instead of being dropped.
    expect(table.classify(endFrame(2n)).kind).toBe("continue");
  });

  it("defaults to max_inflight 256", () => {
    const table = new RequestStreamTable();
    for (let i = 0; i < DEFAULT_MAX_INFLIGHT; i++) {
      expect(table.classify(startFrame(BigInt(i))).kind).toBe("start");
    }
    expectReject(table.classify(startFrame(BigInt(DEFAULT_MAX_INFLIGHT))), "too_many_streams", 429);
  });
});

describe("refuse()", () => {
  it("forgets a stream the receiver failed and drops the rest of its request up to END", () => {
    const table = new RequestStreamTable(4);
    const opened = table.classify(startFrame(1n));
    if (opened.kind !== "start") throw new Error("expected a start");
    table.refuse(opened.stream);
    expect(table.size).toBe(0);
    expect(table.classify(cont(1n))).toEqual({ kind: "drop" });
    expect(table.classify(endFrame(1n))).toEqual({ kind: "drop" });
    expectViolation(table.classify(cont(1n)));
  });

  it("keeps no memory for a refused stream whose request had already ended", () => {
    const table = new RequestStreamTable(4);
    const opened = table.classify(oneShot(1n));
    if (opened.kind !== "start") throw new Error("expected a start");
    table.refuse(opened.stream);
    expect(table.size).toBe(0);
    expectViolation(table.classify(endFrame(1n)));
  });
});
