import type { Socket } from "node:net";
import { encodeFrame, encodeStartPayload, Flags, FrameWriter } from "@omnigate/oap";
import { describe, expect, it } from "vitest";
import { WebSocketMessageSink } from "../src/index.js";

/** A socket that records what is written to it, as one byte string. */
function recordingSocket() {
  const written: Buffer[] = [];
  let writes = 0;
  const socket = {
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
    on() {},
    once() {},
    off() {},
  };
  return { socket: socket as unknown as Socket, bytes: () => Buffer.concat(written), writes: () => writes };
}

/** RFC 6455 §5.2, read independently of the sink: every message must be one unmasked FIN binary frame. */
function messages(bytes: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  while (at < bytes.byteLength) {
    expect(bytes[at]).toBe(0x82);
    const second = bytes[at + 1] as number;
    expect(second & 0x80).toBe(0); // a server never masks
    let length = second & 0x7f;
    at += 2;
    if (length === 126) {
      length = bytes.readUInt16BE(at);
      at += 2;
    } else if (length === 127) {
      length = Number(bytes.readBigUInt64BE(at));
      at += 8;
    }
    out.push(bytes.subarray(at, at + length));
    at += length;
  }
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

describe("WebSocketMessageSink", () => {
  it("sends each frame as one binary message, with 7-bit, 16-bit and 64-bit lengths", async () => {
    const { socket, bytes } = recordingSocket();
    const sink = new WebSocketMessageSink({ readyState: 1 }, socket);
    const frames = [echoFrame(1n, 10), echoFrame(2n, 300), echoFrame(3n, 70_000), echoFrame(4n, 0)];
    for (const frame of frames) sink.write(frame);
    expect(messages(bytes())).toEqual(frames.map((f) => Buffer.from(f)));
  });

  it("writes a FrameWriter batch of small frames in one socket write, and a large payload by reference", async () => {
    const { socket, bytes, writes } = recordingSocket();
    const sink = new WebSocketMessageSink({ readyState: 1 }, socket);
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
    const { socket, writes } = recordingSocket();
    const state = { readyState: 2 };
    const sink = new WebSocketMessageSink(state, socket);
    let released = false;
    expect(sink.write(echoFrame(1n, 5), () => (released = true))).toBe(false);
    expect(writes()).toBe(0);
    expect(released).toBe(true);
  });
});
