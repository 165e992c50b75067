import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import {
  encodeFrame,
  Flags,
  type Frame,
  FrameDecoder,
  FrameWriter,
  isPadFrame,
  PAD_FRAME_MIN,
  paddedBurstLength,
  pow2Bucket,
  type ShapingSettings,
  ShapingSink,
  type ShapingSinkOptions,
  type ShapingTimers,
} from "../src/internal.js";

/**
 * A stream that records each write it performs (one `_write` or one `_writev`: what a TLS
 * socket turns into one TLS write) and, in manual mode, completes writes only when told.
 */
class RecordingStream extends Writable {
  readonly bursts: Buffer[] = [];
  private pending: Array<() => void> = [];
  manual = false;

  constructor(highWaterMark = 16 * 1024) {
    super({ highWaterMark });
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.record([chunk], done);
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, done: () => void): void {
    this.record(
      chunks.map((c) => c.chunk),
      done,
    );
  }

  /** Finishes the writes held in manual mode. */
  complete(): void {
    const pending = this.pending;
    this.pending = [];
    for (const done of pending) done();
  }

  private record(chunks: Buffer[], done: () => void): void {
    this.bursts.push(Buffer.concat(chunks));
    if (this.manual) this.pending.push(done);
    else done();
  }
}

/** Timers fired by hand; remembers every delay asked for. */
class ManualTimers implements ShapingTimers {
  readonly delays: number[] = [];
  private readonly live = new Map<number, () => void>();
  private next = 1;

  setTimeout(callback: () => void, ms: number): unknown {
    this.delays.push(ms);
    const id = this.next++;
    this.live.set(id, callback);
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.live.delete(handle as number);
  }

  get active(): number {
    return this.live.size;
  }

  /** Fires the oldest live timer. */
  fire(): void {
    const [id, callback] = this.live.entries().next().value as [number, () => void];
    this.live.delete(id);
    callback();
  }
}

const SETTINGS: ShapingSettings = {
  padding: "padme",
  jitterMs: 0,
  coverHz: 0,
  coverMaxBytes: 4096,
  maxFrame: 1_048_576,
};

function shaped(settings: Partial<ShapingSettings>, options: ShapingSinkOptions = {}) {
  const stream = new RecordingStream();
  const timers = new ManualTimers();
  const sink = new ShapingSink(stream, { ...SETTINGS, ...settings }, { timers, ...options });
  return { stream, timers, sink };
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

function frameOf(bodyBytes: number, corrId = 1n): Buffer {
  return encodeFrame({
    flags: Flags.RESP | Flags.START | Flags.END,
    code: 200,
    appProtoId: 0x0101,
    corrId,
    payload: Buffer.concat([Buffer.from([0, 0]), Buffer.alloc(bodyBytes, 7)]),
  });
}

function framesIn(bytes: Buffer): Frame[] {
  const decoder = new FrameDecoder({ maxFrame: 1_048_576 });
  const frames = decoder.push(bytes);
  expect(decoder.buffered).toBe(0);
  return frames;
}

describe("ShapingSink padding", () => {
  it("pads each write to its bucket with a PAD frame, in one stream write", () => {
    const { stream, sink } = shaped({ padding: "padme" });
    const frame = frameOf(60); // 100 bytes
    sink.write(frame);
    expect(stream.bursts).toHaveLength(1);
    const burst = stream.bursts[0] as Buffer;
    expect(burst.byteLength).toBe(paddedBurstLength(100, "padme"));
    const frames = framesIn(burst);
    expect(frames.map(isPadFrame)).toEqual([false, true]);
    expect(burst.subarray(0, 100).equals(frame)).toBe(true);
  });

  it("treats a corked group as one burst", () => {
    const { stream, sink } = shaped({ padding: "pow2" });
    sink.cork();
    for (let i = 0; i < 3; i++) sink.write(frameOf(100, BigInt(i + 1)));
    expect(stream.bursts).toHaveLength(0);
    sink.uncork();
    expect(stream.bursts).toHaveLength(1);
    expect(stream.bursts[0]?.byteLength).toBe(pow2Bucket(3 * 140));
    expect(framesIn(stream.bursts[0] as Buffer).map((f) => f.corrId)).toEqual([1n, 2n, 3n, 0n]);
  });

  it("adds nothing to a burst that is a bucket size already", () => {
    const { stream, sink } = shaped({ padding: "pow2" });
    const frame = frameOf(1024 - 40);
    sink.write(frame);
    expect(stream.bursts).toEqual([frame]);
  });

  it("splits padding longer than max_frame into several PAD frames", () => {
    const { stream, sink } = shaped({ padding: "pow2", maxFrame: 4096 });
    sink.write(frameOf(20_000)); // 20 040 bytes → 32 768
    const burst = stream.bursts[0] as Buffer;
    expect(burst.byteLength).toBe(32_768);
    const pads = framesIn(burst).filter(isPadFrame);
    expect(pads.length).toBeGreaterThan(1);
    for (const pad of pads) expect(pad.len >= PAD_FRAME_MIN && pad.len <= 4096).toBe(true);
  });

  it("reports the padding it sent", () => {
    const seen: Array<[number, number, boolean]> = [];
    const { sink } = shaped(
      { padding: "pow2" },
      { observer: (bytes, frames, cover) => seen.push([bytes, frames, cover]) },
    );
    sink.write(frameOf(60));
    // pow2(100) = 128 would leave 28 bytes, too few for a PAD frame: 256.
    expect(seen).toEqual([[156, 1, false]]);
  });

  it("holds a burst while the stream is still writing the previous one, then sends what came as one", async () => {
    const { stream, sink } = shaped({ padding: "padme" });
    stream.manual = true;
    sink.write(frameOf(60, 1n));
    expect(stream.bursts).toHaveLength(1);
    sink.write(frameOf(60, 2n));
    sink.write(frameOf(60, 3n));
    // Without the hold the stream would join these to the first in one write.
    expect(stream.bursts).toHaveLength(1);
    stream.manual = false;
    stream.complete();
    await tick();
    expect(stream.bursts).toHaveLength(2);
    expect(stream.bursts[1]?.byteLength).toBe(paddedBurstLength(200, "padme"));
    expect(framesIn(stream.bursts[1] as Buffer).map((f) => f.corrId)).toEqual([2n, 3n, 0n]);
  });
});

describe("ShapingSink jitter", () => {
  it("holds a burst for random()·J ms, coalescing what is written meanwhile", () => {
    const { stream, timers, sink } = shaped({ padding: "pow2", jitterMs: 20 }, { random: () => 0.7 });
    sink.write(frameOf(60, 1n));
    sink.write(frameOf(60, 2n));
    expect(stream.bursts).toHaveLength(0);
    // Held bytes are reported, so the node can count them with what the socket queues.
    expect(sink.bytesHeld).toBe(2 * frameOf(60).byteLength);
    expect(timers.delays).toEqual([14]);
    timers.fire();
    expect(sink.bytesHeld).toBe(0);
    expect(stream.bursts).toHaveLength(1);
    expect(stream.bursts[0]?.byteLength).toBe(256);
    expect(framesIn(stream.bursts[0] as Buffer).map((f) => f.corrId)).toEqual([1n, 2n, 0n]);
  });

  it("never asks for a delay beyond J", () => {
    let state = 12345;
    // A deterministic generator over [0, 1), its top value included.
    const random = () => {
      state = (state * 1103515245 + 12345) % 2 ** 31;
      return state === 0 ? 1 - 2 ** -32 : state / 2 ** 31;
    };
    const { timers, sink } = shaped({ padding: "off", jitterMs: 7 }, { random });
    for (let i = 0; i < 500; i++) {
      sink.write(frameOf(10));
      timers.fire();
    }
    expect(timers.delays).toHaveLength(500);
    for (const delay of timers.delays) expect(delay >= 0 && delay <= 7).toBe(true);
  });

  it("writes a held burst at once when it reaches the hold limit", () => {
    const { stream, timers, sink } = shaped(
      { padding: "padme", jitterMs: 50 },
      { random: () => 0.5, holdLimitBytes: 1000 },
    );
    sink.write(frameOf(500));
    expect(stream.bursts).toHaveLength(0);
    sink.write(frameOf(500));
    expect(stream.bursts).toHaveLength(1);
    expect(stream.bursts[0]?.byteLength).toBe(paddedBurstLength(1080, "padme"));
    expect(timers.active).toBe(0);
  });

  it("pads nothing with padding off, and only delays", () => {
    const { stream, timers, sink } = shaped({ padding: "off", jitterMs: 10 }, { random: () => 0.1 });
    const frame = frameOf(60);
    sink.write(frame);
    timers.fire();
    expect(stream.bursts).toEqual([frame]);
  });
});

describe("ShapingSink cover traffic", () => {
  it("sends PAD-only bursts of bucket sizes at exponential intervals", () => {
    const { stream, timers, sink } = shaped(
      { padding: "pow2", coverHz: 10, coverMaxBytes: 2048 },
      { random: () => 0.5 },
    );
    // Mean 100 ms: −ln(1 − 0.5)/10 s = 69.3 ms.
    expect(timers.delays[0]).toBeCloseTo(69.31, 1);
    timers.fire();
    expect(stream.bursts).toHaveLength(1);
    // 55 + ⌊0.5 · 1994⌋ = 1052 bytes, bucketed to 2048.
    expect(stream.bursts[0]?.byteLength).toBe(2048);
    expect(framesIn(stream.bursts[0] as Buffer).every(isPadFrame)).toBe(true);
    expect(timers.active).toBe(1);
    sink.release();
  });

  it("skips cover bursts while the stream needs draining", () => {
    const stream = new RecordingStream(1024);
    stream.manual = true;
    const timers = new ManualTimers();
    const sink = new ShapingSink(stream, { ...SETTINGS, coverHz: 10 }, { timers, random: () => 0.5 });
    sink.write(frameOf(2000));
    expect(sink.writableNeedDrain).toBe(true);
    timers.fire();
    timers.fire();
    expect(stream.bursts).toHaveLength(1);
    expect(timers.active).toBe(1);
    sink.release();
  });

  it("stops when the connection closes, leaving no timer behind", async () => {
    const { stream, timers } = shaped({ padding: "padme", coverHz: 50 }, { random: () => 0.25 });
    timers.fire();
    timers.fire();
    expect(stream.bursts).toHaveLength(2);
    stream.destroy();
    await tick();
    expect(timers.active).toBe(0);
    expect(stream.bursts).toHaveLength(2);
  });

  it("stops on release, after writing what it held", () => {
    const { stream, timers, sink } = shaped(
      { padding: "pow2", jitterMs: 30, coverHz: 5 },
      { random: () => 0.5 },
    );
    sink.write(frameOf(60));
    sink.release();
    expect(stream.bursts.map((b) => b.byteLength)).toEqual([256]);
    expect(timers.active).toBe(0);
    // Later writes pass straight through.
    sink.write(frameOf(60));
    expect(stream.bursts.map((b) => b.byteLength)).toEqual([256, 100]);
  });

  it("writes what it holds when the peer half-closes, before the socket ends its own side", () => {
    const stream = new RecordingStream();
    // What a socket that is not half-open does on the peer's FIN, from a listener it added
    // when it was made (before any sink): end its own side.
    stream.on("end", () => stream.end());
    const timers = new ManualTimers();
    const sink = new ShapingSink(
      stream,
      { ...SETTINGS, padding: "pow2", jitterMs: 30 },
      { timers, random: () => 0.5 },
    );
    sink.write(frameOf(60));
    expect(stream.bursts).toHaveLength(0);
    stream.emit("end");
    expect(stream.bursts.map((b) => b.byteLength)).toEqual([256]);
    expect(timers.active).toBe(0);
  });

  it("really stops a real-timer sink on close", async () => {
    const stream = new RecordingStream();
    new ShapingSink(stream, { ...SETTINGS, coverHz: 1000, coverMaxBytes: 100 });
    await new Promise((resolve) => setTimeout(resolve, 30));
    stream.destroy();
    await tick();
    const count = stream.bursts.length;
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(stream.bursts.length).toBe(count);
  });
});

describe("ShapingSink backpressure and callbacks", () => {
  it("passes the stream's backpressure through, drain included", async () => {
    const stream = new RecordingStream(1024);
    stream.manual = true;
    const sink = new ShapingSink(stream, SETTINGS, { timers: new ManualTimers() });
    expect(sink.write(frameOf(2000))).toBe(false);
    expect(sink.writableNeedDrain).toBe(true);
    let drained = false;
    sink.on("drain", () => {
      drained = true;
    });
    stream.complete();
    await tick();
    expect(drained).toBe(true);
    expect(sink.writableNeedDrain).toBe(false);
  });

  it("calls write callbacks only once the stream wrote the bytes", async () => {
    const { stream, timers, sink } = shaped({ padding: "padme", jitterMs: 20 }, { random: () => 0.5 });
    stream.manual = true;
    const called: number[] = [];
    sink.write(frameOf(60), () => called.push(1));
    await tick();
    expect(called).toEqual([]);
    timers.fire();
    await tick();
    expect(called).toEqual([]);
    stream.complete();
    await tick();
    expect(called).toEqual([1]);
  });

  it("calls the callbacks of held bytes when the connection closes", async () => {
    const { stream, sink } = shaped({ padding: "padme", jitterMs: 20 }, { random: () => 0.5 });
    const called: number[] = [];
    sink.write(frameOf(60), () => called.push(1));
    sink.write(frameOf(60), () => called.push(2));
    stream.destroy();
    await tick();
    expect(called).toEqual([1, 2]);
    expect(stream.bursts).toHaveLength(0);
  });

  it("under a FrameWriter: frames arrive in order, payloads by reference are freed once written", async () => {
    const stream = new RecordingStream();
    stream.manual = true;
    const timers = new ManualTimers();
    const writer = new FrameWriter(stream);
    writer.useSink(
      new ShapingSink(stream, { ...SETTINGS, padding: "pow2", jitterMs: 5 }, { timers, random: () => 0 }),
    );
    const big = Buffer.alloc(40_000, 3);
    let freed = false;
    writer.write({
      flags: Flags.RESP | Flags.START,
      code: 200,
      appProtoId: 1,
      corrId: 1n,
      payload: Buffer.from([0, 0]),
    });
    writer.write(
      { flags: Flags.RESP | Flags.END, code: 200, appProtoId: 1, corrId: 1n, payload: big },
      () => {
        freed = true;
      },
    );
    await tick();
    expect(freed).toBe(false);
    timers.fire();
    stream.complete();
    await tick();
    expect(freed).toBe(true);
    const burst = Buffer.concat(stream.bursts);
    expect(burst.byteLength).toBe(65_536);
    const frames = framesIn(burst);
    expect(frames.filter((f) => !isPadFrame(f)).map((f) => f.len)).toEqual([40, 40_038]);
    expect(isPadFrame(frames.at(-1) as Frame)).toBe(true);
  });

  it("useSink sends what was batched before the switch unshaped", async () => {
    const stream = new RecordingStream();
    const writer = new FrameWriter(stream);
    writer.write({
      flags: Flags.RESP | Flags.START | Flags.END,
      code: 200,
      appProtoId: 0,
      corrId: 1n,
      payload: Buffer.from([0, 0]),
    });
    writer.useSink(new ShapingSink(stream, { ...SETTINGS, padding: "pow2" }, { timers: new ManualTimers() }));
    writer.write({
      flags: Flags.RESP | Flags.START | Flags.END,
      code: 200,
      appProtoId: 0,
      corrId: 2n,
      payload: Buffer.from([0, 0]),
    });
    await tick();
    expect(stream.bursts.map((b) => b.byteLength)).toEqual([40, 128]);
  });
});
