import { EventEmitter } from "node:events";
import type { Socket } from "node:net";
import { encodeFrame, encodeStartPayload, Flags, FrameWriter } from "@omnigate/oap/internal";
import { describe, expect, it } from "vitest";
import { WebSocketMessageSink } from "../src/internal.js";

/** A socket that records what is written to it, as one byte string. */
function recordingSocket() {
  const written: Buffer[] = [];
  let writes = 0;
  const socket = Object.assign(new EventEmitter(), {
    destroyed: false,
    writableNeedDrain: false,
    cork() {},
    uncork() {},
    write(chunk: Buffer, callback?: () => void) {
      written.push(Buffer.from(chunk));
      writes++;
      callback?.();
      return true;
    },
  });
  return {
    socket,
    asSocket: socket as unknown as Socket,
    bytes: () => Buffer.concat(written),
    writes: () => writes,
  };
}

/**
 * RFC 6455 §5.2, read independently of the sink: every message must be one FIN binary frame,
 * masked (and then unmasked here) exactly when `masked`.
 */
function messages(bytes: Buffer, masked = false): Buffer[] {
  const out: Buffer[] = [];
  const keys = new Set<string>();
  let at = 0;
  while (at < bytes.byteLength) {
    expect(bytes[at]).toBe(0x82);
    const second = bytes[at + 1] as number;
    expect((second & 0x80) !== 0).toBe(masked);
    let length = second & 0x7f;
    at += 2;
    if (length === 126) {
      length = bytes.readUInt16BE(at);
      at += 2;
    } else if (length === 127) {
      length = Number(bytes.readBigUInt64BE(at));
      at += 8;
    }
    const key = masked ? bytes.subarray(at, at + 4) : undefined;
    if (key) {
      keys.add(key.toString("hex"));
      at += 4;
    }
    const payload = Buffer.from(bytes.subarray(at, at + length));
    if (key)
      for (let i = 0; i < payload.byteLength; i++)
        payload[i] = (payload[i] as number) ^ (key[i & 3] as number);
    out.push(payload);
    at += length;
  }
  // A fresh key per message (a repeat among a few dozen random keys would be a bug).
  if (masked) expect(keys.size).toBe(out.length);
  return out;
}

const echoFrame = (corrId: bigint, bodyBytes: number) =>
  encodeFrame({
    flags: Flags.RESP | Flags.START | Flags.END,
    code: 200,
    appProtoId: 0x0101,
    corrId,
    payload: encodeStartPayload({}, Buffer.alloc(bodyBytes, Number(corrId % 251n))),
  });

/** A frame's fixed fields, to write it again through a FrameWriter. */
function decodeHead(frame: Buffer) {
  return {
    flags: frame.readUInt16BE(6),
    code: frame.readUInt16BE(8),
    appProtoId: frame.readUInt16BE(10),
    corrId: frame.readBigUInt64BE(30),
  };
}

describe("WebSocketMessageSink", () => {
  it("sends each frame as one binary message, with 7-bit, 16-bit and 64-bit lengths", async () => {
    const { asSocket, bytes } = recordingSocket();
    const sink = new WebSocketMessageSink({ readyState: 1 }, asSocket);
    const frames = [echoFrame(1n, 10), echoFrame(2n, 300), echoFrame(3n, 70_000), echoFrame(4n, 0)];
    for (const frame of frames) sink.write(frame);
    expect(messages(bytes())).toEqual(frames.map((f) => Buffer.from(f)));
  });

  it("as a client, masks every message with its own key, across pieces of one frame too", () => {
    const { asSocket, bytes } = recordingSocket();
    const writer = new FrameWriter(new WebSocketMessageSink({ readyState: 1 }, asSocket, true));
    const frames = [echoFrame(1n, 3), echoFrame(2n, 1_000), echoFrame(3n, 5)];
    for (const frame of frames) writer.write({ ...decodeHead(frame), payload: frame.subarray(38) });
    // A head in the batch and a 70 KB payload by reference: two pieces of one masked message
    // whose payload starts at a key phase of 38 & 3 = 2.
    const big = echoFrame(4n, 70_001);
    writer.write({ ...decodeHead(big), payload: big.subarray(38) });
    writer.flush();
    expect(messages(bytes(), true)).toEqual([...frames, big].map((f) => Buffer.from(f)));
  });

  it("keeps a frame whose length field straddles two writes in one message", () => {
    const { asSocket, bytes } = recordingSocket();
    const sink = new WebSocketMessageSink({ readyState: 1 }, asSocket);
    const stream = Buffer.concat([echoFrame(1n, 2), echoFrame(2n, 2)]);
    const cut = echoFrame(1n, 2).byteLength + 2;
    sink.write(stream.subarray(0, cut));
    sink.write(stream.subarray(cut));
    expect(messages(bytes())).toEqual([Buffer.from(echoFrame(1n, 2)), Buffer.from(echoFrame(2n, 2))]);
  });

  it("passes on the socket's backpressure, drain and close", async () => {
    const { socket, asSocket } = recordingSocket();
    const writer = new FrameWriter(new WebSocketMessageSink({ readyState: 1 }, asSocket));
    socket.writableNeedDrain = true;
    expect(writer.write({ flags: Flags.EVENT | Flags.START | Flags.END, appProtoId: 1, corrId: 1n })).toBe(
      false,
    );
    let drained = false;
    const waiting = writer.drained().then(() => {
      drained = true;
    });
    await Promise.resolve();
    expect(drained).toBe(false);
    socket.writableNeedDrain = false;
    socket.emit("drain");
    await waiting;
    socket.destroyed = true;
    socket.emit("close");
    expect(writer.isClosed).toBe(true);
  });

  it("writes a FrameWriter batch of small frames in one socket write, and a large payload by reference", async () => {
    const { asSocket, bytes, writes } = recordingSocket();
    const sink = new WebSocketMessageSink({ readyState: 1 }, asSocket);
    const writer = new FrameWriter(sink);
    for (let i = 1n; i <= 40n; i++)
      writer.write({ flags: Flags.EVENT | Flags.START | Flags.END, appProtoId: 1, corrId: i });
    writer.flush();
    expect(writes()).toBe(1);
    expect(messages(bytes())).toHaveLength(40);

    const big = Buffer.alloc(64 * 1024, 7);
    let released = false;
    writer.write({ flags: Flags.RESP | Flags.END, appProtoId: 0x0301, corrId: 41n, payload: big }, () => {
      released = true;
    });
    const all = messages(bytes());
    expect(all).toHaveLength(41);
    expect(all[40]?.byteLength).toBe(38 + big.byteLength);
    expect(all[40]?.subarray(38).equals(big)).toBe(true);
    expect(released).toBe(true);
  });

  it("sends nothing once the WebSocket is closing, and releases the caller's buffer", () => {
    const { asSocket, writes } = recordingSocket();
    const sink = new WebSocketMessageSink({ readyState: 2 }, asSocket);
    let released = false;
    expect(sink.write(echoFrame(1n, 5), () => (released = true))).toBe(false);
    expect(writes()).toBe(0);
    expect(released).toBe(true);
  });
});
