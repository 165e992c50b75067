import { checkFrameMessage, decodeFrame, Flags, FrameWriter } from "@omnigate/oap/internal";
import { describe, expect, it } from "vitest";
import { BrowserWebSocketSink, HIGH_WATER_BYTES, LOW_WATER_BYTES } from "../src/client/browser-ws-sink.js";
import type { PlatformWebSocket } from "../src/client/platform-websocket.js";

const frame = (corrId: number, payload: Uint8Array) => ({
  flags: Flags.REQ | Flags.START | Flags.END,
  appProtoId: 0x0101,
  corrId: BigInt(corrId),
  payload,
});

/** A platform WebSocket whose bufferedAmount the test sets. */
function fakePlatformWs(): PlatformWebSocket & { sent: Uint8Array[]; bufferedAmount: number } {
  const sent: Uint8Array[] = [];
  return {
    sent,
    binaryType: "arraybuffer",
    protocol: "oap.1",
    readyState: 1,
    bufferedAmount: 0,
    send(data: Uint8Array) {
      // A WebSocket takes a copy of what it is given.
      sent.push(new Uint8Array(data));
    },
    close() {},
    addEventListener() {},
    removeEventListener() {},
  };
}

describe("BrowserWebSocketSink (the platform WebSocket)", () => {
  it("sends each frame as one message, joining a frame's pieces (a page cannot send fragments)", async () => {
    const ws = fakePlatformWs();
    const writer = new FrameWriter(new BrowserWebSocketSink(ws));
    const large = Buffer.alloc(100 * 1024, 9);
    for (let i = 1; i <= 5; i++) writer.write(frame(i, Buffer.from(`f${i}`)));
    writer.write(frame(6, large));
    writer.flush();

    expect(ws.sent).toHaveLength(6);
    for (const message of ws.sent) checkFrameMessage(message);
    expect(ws.sent.map((m) => decodeFrame(m).corrId)).toEqual([1n, 2n, 3n, 4n, 5n, 6n]);
    expect(Buffer.from(decodeFrame(ws.sent[5] as Uint8Array).payload).equals(large)).toBe(true);
  });

  it("keeps a frame's held piece as a copy, so the writer may reuse its buffer", () => {
    const ws = fakePlatformWs();
    const sink = new BrowserWebSocketSink(ws);
    const bytes = encode(frame(1, Buffer.from("held")));
    const head = Buffer.from(bytes.subarray(0, 10));
    sink.write(head);
    head.fill(0);
    sink.write(bytes.subarray(10));
    expect(ws.sent).toHaveLength(1);
    expect(Buffer.from(ws.sent[0] as Uint8Array).equals(bytes)).toBe(true);
  });

  it("asks writers to wait above the high-water mark and drains once bufferedAmount falls", async () => {
    const ws = fakePlatformWs();
    const sink = new BrowserWebSocketSink(ws);
    const writer = new FrameWriter(sink);
    ws.bufferedAmount = HIGH_WATER_BYTES + 1;
    writer.write(frame(1, Buffer.from("x")));
    writer.flush();
    expect(sink.writableNeedDrain).toBe(true);
    const drained = writer.drained();
    // Polled: still above the low-water mark, then below it.
    ws.bufferedAmount = LOW_WATER_BYTES + 1;
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(sink.writableNeedDrain).toBe(true);
    ws.bufferedAmount = 0;
    await drained;
    expect(sink.writableNeedDrain).toBe(false);
  });

  it("releases waiting writers and drops later writes once the WebSocket closed", async () => {
    const ws = fakePlatformWs();
    const sink = new BrowserWebSocketSink(ws);
    const writer = new FrameWriter(sink);
    ws.bufferedAmount = HIGH_WATER_BYTES + 1;
    writer.write(frame(1, Buffer.from("x")));
    writer.flush();
    const drained = writer.drained();
    sink.closed();
    await drained;
    expect(writer.isClosed).toBe(true);
    expect(writer.write(frame(2, Buffer.from("y")))).toBe(false);
    expect(ws.sent).toHaveLength(1);
  });
});

function encode(init: ReturnType<typeof frame>): Buffer {
  const chunks: Buffer[] = [];
  const sink = {
    write: (chunk: Buffer, callback?: () => void) => {
      chunks.push(Buffer.from(chunk));
      callback?.();
      return true;
    },
    cork() {},
    uncork() {},
    writableNeedDrain: false,
    destroyed: false,
    on() {},
    once() {},
    off() {},
  };
  const writer = new FrameWriter(sink);
  writer.write(init);
  writer.flush();
  return Buffer.concat(chunks);
}
