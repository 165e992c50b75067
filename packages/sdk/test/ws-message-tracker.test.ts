import { describe, expect, it } from "vitest";
import { WebSocketMessageTracker } from "../src/server/ws-message-tracker.js";

/** A client frame (masked, zero key) with `opcode`, FIN as given and a payload of `length` bytes. */
function frame(opcode: number, fin: boolean, length: number): Buffer {
  const first = (fin ? 0x80 : 0) | opcode;
  let head: Buffer;
  if (length < 126) head = Buffer.from([first, 0x80 | length]);
  else if (length < 0x1_0000) head = Buffer.from([first, 0x80 | 126, length >> 8, length & 0xff]);
  else {
    head = Buffer.alloc(10);
    head[0] = first;
    head[1] = 0x80 | 127;
    head.writeUInt32BE(length, 6);
  }
  return Buffer.concat([head, Buffer.alloc(4), Buffer.alloc(length, 0x61)]);
}

describe("WebSocketMessageTracker", () => {
  it("counts nothing between whole messages, whatever their size or how they are cut", () => {
    const tracker = new WebSocketMessageTracker();
    const bytes = Buffer.concat([frame(2, true, 10), frame(2, true, 300), frame(2, true, 70_000)]);
    for (let at = 0; at < bytes.byteLength; at += 777) tracker.push(bytes.subarray(at, at + 777));
    expect(tracker.pendingBytes).toBe(0);
  });

  it("counts a message still arriving, its header and fragments included", () => {
    const tracker = new WebSocketMessageTracker();
    const first = frame(2, false, 1_000);
    tracker.push(first);
    expect(tracker.pendingBytes).toBe(first.byteLength);
    const rest = frame(0, true, 500);
    tracker.push(rest.subarray(0, 100));
    expect(tracker.pendingBytes).toBe(first.byteLength + 100);
    tracker.push(rest.subarray(100));
    expect(tracker.pendingBytes).toBe(0);
  });

  it("neither ends nor grows a message for pings and pongs between its fragments", () => {
    const tracker = new WebSocketMessageTracker();
    const started = frame(2, false, 100);
    tracker.push(started);
    tracker.push(frame(9, true, 4));
    tracker.push(frame(10, true, 0));
    expect(tracker.pendingBytes).toBe(started.byteLength);
    // Between messages, a control frame is nothing pending.
    tracker.push(frame(0, true, 0));
    tracker.push(frame(9, true, 4));
    expect(tracker.pendingBytes).toBe(0);
  });

  it("counts a message that starts in the same read as a whole one", () => {
    const tracker = new WebSocketMessageTracker();
    const whole = frame(2, true, 50);
    const started = frame(2, true, 100_000).subarray(0, 64);
    tracker.push(Buffer.concat([whole, started]));
    expect(tracker.pendingBytes).toBe(64);
  });
});
