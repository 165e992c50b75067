import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import {
  decodeFrame,
  encodeFrame,
  encodeMeta,
  Flags,
  FrameDecoder,
  type FrameInit,
  FrameWriter,
  startPayload,
  WRITE_BATCH_BYTES,
} from "../src/internal.js";

/** A socket that keeps every write. */
function sink(): { socket: Writable; writes: Buffer[] } {
  const writes: Buffer[] = [];
  const socket = new Writable({
    write(chunk: Buffer, _encoding, done) {
      writes.push(Buffer.from(chunk));
      done();
    },
  });
  return { socket, writes };
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("FrameWriter", () => {
  it("sends the small frames written in one turn as one socket write, byte-exact", async () => {
    const { socket, writes } = sink();
    const writer = new FrameWriter(socket);
    const frames: FrameInit[] = Array.from({ length: 50 }, (_, i) => ({
      flags: Flags.REQ | Flags.START | Flags.END,
      appProtoId: 0x0101,
      tenantId: BigInt(i) << 70n,
      corrId: BigInt(i + 1),
      cap: i % 3 === 0 ? Buffer.from("cap") : undefined,
      payload: Buffer.alloc(i % 30, i),
    }));
    expect(frames.reduce((n, f) => n + encodeFrame(f).byteLength, 0)).toBeLessThan(WRITE_BATCH_BYTES);
    for (const frame of frames) writer.write(frame);
    expect(writes).toHaveLength(0);
    await turn();
    expect(writes).toHaveLength(1);
    expect(Buffer.concat(writes).equals(Buffer.concat(frames.map(encodeFrame)))).toBe(true);
  });

  it("writeStart encodes the same bytes as write() with the START payload built first", async () => {
    const cases: Array<{ meta: Uint8Array | undefined; body: Uint8Array; cap?: Uint8Array }> = [
      { meta: undefined, body: new Uint8Array(0) },
      { meta: encodeMeta({ op: "x", n: 1 }), body: Buffer.from("hello") },
      { meta: undefined, body: Buffer.alloc(64, 7), cap: Buffer.from("token") },
      // Above the copy threshold the body goes by reference; the bytes are the same.
      { meta: encodeMeta({ big: true }), body: Buffer.alloc(40_000, 9) },
    ];
    for (const { meta, body, cap } of cases) {
      const head = {
        flags: Flags.RESP | Flags.START | Flags.END,
        code: 200,
        appProtoId: 7,
        corrId: 42n,
        cap,
      };
      const a = sink();
      new FrameWriter(a.socket).writeStart({ ...head, meta, body });
      const b = sink();
      new FrameWriter(b.socket).write({ ...head, payload: startPayload(meta, body) });
      await turn();
      const written = Buffer.concat(a.writes);
      expect(written.equals(Buffer.concat(b.writes))).toBe(true);
      expect(decodeFrame(written).corrId).toBe(42n);
    }
  });

  it("flushes a batch as soon as it passes WRITE_BATCH_BYTES, keeping frame order across arenas", async () => {
    const { socket, writes } = sink();
    const writer = new FrameWriter(socket);
    const sent: FrameInit[] = [];
    for (let i = 0; i < 200; i++) {
      const frame = {
        flags: Flags.REQ,
        appProtoId: 1,
        corrId: BigInt(i + 1),
        payload: Buffer.alloc(1000, i),
      };
      sent.push(frame);
      writer.write(frame);
    }
    // 200 KB written in one turn: most of it has left before the turn ends, in bounded writes.
    expect(writes.length).toBeGreaterThan(1);
    expect(writes.every((w) => w.byteLength < WRITE_BATCH_BYTES + 1100)).toBe(true);
    await turn();
    const decoder = new FrameDecoder();
    const got = writes.flatMap((chunk) => decoder.push(chunk));
    expect(got.map((f) => f.corrId)).toEqual(sent.map((f) => f.corrId));
    expect(got.every((f, i) => Buffer.from(f.payload).equals(sent[i]?.payload as Buffer))).toBe(true);
  });
});

describe("FrameWriter and the caller's buffers", () => {
  it("has sent a large payload by the time write() returns, so the caller may reuse it", async () => {
    const chunks: Buffer[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        chunks.push(Buffer.from(chunk));
        cb();
      },
    });
    const writer = new FrameWriter(sink);
    const payload = Buffer.alloc(20_000, 0xaa);
    writer.write({ flags: Flags.REQ | Flags.START | Flags.END, appProtoId: 1, corrId: 1n, payload });
    payload.fill(0);
    await new Promise((r) => setImmediate(r));
    const sent = Buffer.concat(chunks);
    expect(sent.subarray(38).every((b) => b === 0xaa)).toBe(true);
    expect(sent.byteLength).toBe(38 + 20_000);
  });
});

describe("FrameWriter onWritten", () => {
  /** A socket that takes writes but completes each only when told to. */
  function slowSink(): { socket: Writable; complete: () => void; writes: Buffer[] } {
    const writes: Buffer[] = [];
    const pending: Array<() => void> = [];
    const socket = new Writable({
      write(chunk: Buffer, _enc, done) {
        writes.push(Buffer.from(chunk));
        pending.push(() => done());
      },
      writev(chunks, done) {
        for (const { chunk } of chunks) writes.push(Buffer.from(chunk as Buffer));
        pending.push(() => done());
      },
    });
    return { socket, writes, complete: () => pending.shift()?.() };
  }
  const head = { flags: Flags.RESP, appProtoId: 1, corrId: 1n } as const;

  it("is called at once for a payload copied into the batch", () => {
    const { socket } = slowSink();
    const writer = new FrameWriter(socket);
    let written = 0;
    writer.write({ ...head, payload: Buffer.alloc(100, 1) }, () => written++);
    writer.writeStart({ ...head, body: Buffer.alloc(200, 2) }, () => written++);
    expect(written).toBe(2);
  });

  it("is called for a payload sent by reference only once the socket has written it", async () => {
    const { socket, complete, writes } = slowSink();
    const writer = new FrameWriter(socket);
    const payload = Buffer.alloc(64 * 1024, 7);
    let written = false;
    writer.write({ ...head, payload }, () => {
      written = true;
    });
    await turn();
    expect(writes.length).toBeGreaterThan(0);
    expect(written).toBe(false);
    complete();
    await turn();
    expect(written).toBe(true);
  });

  it("is called for every payload once a destroyed socket lets go of its writes", async () => {
    const { socket, complete } = slowSink();
    socket.on("error", () => {});
    const writer = new FrameWriter(socket);
    const written: number[] = [];
    for (let i = 0; i < 3; i++) {
      writer.write({ ...head, corrId: BigInt(i + 1), payload: Buffer.alloc(64 * 1024, i) }, () =>
        written.push(i),
      );
    }
    socket.destroy();
    await turn();
    // The socket still holds the write it had taken, and the queued ones wait behind it.
    expect(written).toEqual([]);
    complete();
    await turn();
    expect(written.sort()).toEqual([0, 1, 2]);
    let late = false;
    writer.write({ ...head, payload: Buffer.alloc(64 * 1024) }, () => {
      late = true;
    });
    expect(late).toBe(true);
  });
});

describe("FrameWriter arenas", () => {
  /** A socket that finishes nothing until the test releases it (it keeps views, not copies). */
  function blockedSink() {
    const delivered: Buffer[] = [];
    let pending: (() => void) | undefined;
    const socket = new Writable({
      write(chunk: Buffer, _encoding, done) {
        delivered.push(chunk);
        pending = done;
      },
      highWaterMark: 1 << 30,
    });
    /** Lets the socket finish everything it was given, one write at a time. */
    const release = async () => {
      while (pending) {
        const done = pending;
        pending = undefined;
        done();
        await turn();
      }
    };
    return { socket, delivered, release };
  }

  const frame = (i: number): FrameInit => ({
    flags: Flags.RESP | Flags.START | Flags.END,
    appProtoId: 0x0101,
    corrId: BigInt(i + 1),
    payload: Buffer.alloc(1000, i & 0xff),
  });
  const expected = (from: number, to: number) =>
    Buffer.concat(Array.from({ length: to - from }, (_, k) => encodeFrame(frame(from + k))));

  it("never reuses an arena the socket still holds, and reuses it once the socket is done", async () => {
    const { socket, delivered, release } = blockedSink();
    const writer = new FrameWriter(socket);
    // 800 frames of ~1 KiB (over ten arenas) while the socket finishes nothing.
    for (let i = 0; i < 800; i++) writer.write(frame(i));
    writer.flush();
    await release();
    // The socket kept views: had an arena been reused under it, earlier bytes would have changed.
    expect(Buffer.concat(delivered).equals(expected(0, 800))).toBe(true);
    const used = new Set(delivered.map((chunk) => chunk.buffer));
    delivered.length = 0;
    for (let i = 800; i < 1200; i++) writer.write(frame(i));
    writer.flush();
    await release();
    expect(Buffer.concat(delivered).equals(expected(800, 1200))).toBe(true);
    // Released arenas came back: the second 400 KiB needed no new one.
    expect(new Set(delivered.map((chunk) => chunk.buffer)).size).toBeGreaterThan(3);
    expect(delivered.filter((chunk) => !used.has(chunk.buffer))).toEqual([]);
  });
});
