import { EventEmitter } from "node:events";
import { checkFrameMessage, decodeFrame, Flags, FrameWriter } from "@omnigate/oap";
import { describe, expect, it } from "vitest";
import { BrowserWebSocketSink, HIGH_WATER_BYTES, LOW_WATER_BYTES } from "../src/client/browser-ws-sink.js";
import type { PlatformWebSocket } from "../src/client/platform-websocket.js";
import {
  type FragmentSender,
  type UnderlyingSocket,
  WebSocketFrameSink,
} from "../src/client/ws-frame-sink.js";

interface Sent {
  data: Uint8Array;
  fin: boolean;
  binary: boolean;
  compress: boolean;
  /** Corks held on the socket when it was sent. */
  corked: number;
}

/** A `ws` WebSocket and its socket, recording every send and how the socket was corked. */
function fakeWs(): {
  ws: FragmentSender;
  socket: UnderlyingSocket & EventEmitter & { writableNeedDrain: boolean; destroyed: boolean };
  sent: Sent[];
  uncorks: number[];
} {
  const sent: Sent[] = [];
  const uncorks: number[] = [];
  let corks = 0;
  const socket = Object.assign(new EventEmitter(), {
    writableNeedDrain: false,
    destroyed: false,
    cork: () => {
      corks++;
    },
    uncork: () => {
      corks--;
      uncorks.push(corks);
    },
  });
  const ws: FragmentSender = {
    send(data, options, callback) {
      sent.push({
        data,
        fin: options.fin,
        binary: options.binary,
        compress: options.compress,
        corked: corks,
      });
      if (callback) queueMicrotask(() => callback());
    },
  };
  return { ws, socket, sent, uncorks };
}

/** The messages the sends make up: fragments joined, up to each fin. */
function messages(sent: readonly Sent[]): Buffer[] {
  const out: Buffer[] = [];
  let parts: Uint8Array[] = [];
  for (const piece of sent) {
    parts.push(piece.data);
    if (piece.fin) {
      out.push(Buffer.concat(parts));
      parts = [];
    }
  }
  expect(parts).toEqual([]);
  return out;
}

const frame = (corrId: number, payload: Uint8Array) => ({
  flags: Flags.REQ | Flags.START | Flags.END,
  appProtoId: 0x0101,
  corrId: BigInt(corrId),
  payload,
});

describe("WebSocketFrameSink (ws in Node)", () => {
  it("sends each frame of a coalesced write as one binary message, all in one corked burst", async () => {
    const { ws, socket, sent, uncorks } = fakeWs();
    const writer = new FrameWriter(new WebSocketFrameSink(ws, socket));
    for (let i = 1; i <= 20; i++) writer.write(frame(i, Buffer.from(`frame ${i}`)));
    writer.flush();

    expect(sent).toHaveLength(20);
    expect(sent.every((s) => s.fin && s.binary && !s.compress && s.corked > 0)).toBe(true);
    // The burst ended with one uncork back to zero: the socket wrote it in one go.
    expect(uncorks).toEqual([0]);
    const decoded = messages(sent).map((m) => {
      checkFrameMessage(m);
      return decodeFrame(m);
    });
    expect(decoded.map((f) => Buffer.from(f.payload).toString())).toEqual(
      Array.from({ length: 20 }, (_, i) => `frame ${i + 1}`),
    );
  });

  it("sends a large payload by reference as the last fragment of its frame's message", async () => {
    const { ws, socket, sent } = fakeWs();
    const writer = new FrameWriter(new WebSocketFrameSink(ws, socket));
    const payload = Buffer.alloc(200 * 1024, 7);
    let released = false;
    writer.write(frame(1, Buffer.from("small")));
    writer.write(frame(2, payload), () => {
      released = true;
    });

    // frame 1 whole; frame 2's header, then its payload as the fragment that ends the message.
    expect(sent.map((s) => s.fin)).toEqual([true, false, true]);
    expect((sent[2] as Sent).data).toBe(payload);
    const [first, second] = messages(sent);
    expect(decodeFrame(first as Buffer).corrId).toBe(1n);
    expect(Buffer.from(decodeFrame(second as Buffer).payload).equals(payload)).toBe(true);
    // The payload's owner hears it is free once ws is done with the fragment that holds it.
    expect(released).toBe(false);
    await new Promise((resolve) => setImmediate(resolve));
    expect(released).toBe(true);
  });

  it("cuts a frame whose length field straddles two writes into fragments of one message", () => {
    const { ws, socket, sent } = fakeWs();
    const sink = new WebSocketFrameSink(ws, socket);
    const bytes = Buffer.concat([encode(frame(1, Buffer.from("ab"))), encode(frame(2, Buffer.from("cd")))]);
    // Split inside frame 2's 4-byte len.
    const cut = encode(frame(1, Buffer.from("ab"))).byteLength + 2;
    let called = 0;
    sink.write(bytes.subarray(0, cut), () => called++);
    sink.write(bytes.subarray(cut));
    expect(messages(sent).map((m) => decodeFrame(m).corrId)).toEqual([1n, 2n]);
    return new Promise<void>((resolve) =>
      setImmediate(() => {
        expect(called).toBe(1);
        resolve();
      }),
    );
  });

  it("reports the socket's backpressure, and its drain and close", async () => {
    const { ws, socket } = fakeWs();
    const sink = new WebSocketFrameSink(ws, socket);
    const writer = new FrameWriter(sink);
    socket.writableNeedDrain = true;
    expect(writer.write(frame(1, Buffer.from("x")))).toBe(false);
    let drained = false;
    const waiting = writer.drained().then(() => {
      drained = true;
    });
    await Promise.resolve();
    expect(drained).toBe(false);
    socket.writableNeedDrain = false;
    socket.emit("drain");
    await waiting;
    expect(drained).toBe(true);

    socket.destroyed = true;
    socket.emit("close");
    expect(writer.isClosed).toBe(true);
  });
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
