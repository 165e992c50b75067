import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  AppProtoId,
  BoundedInflater,
  DEFAULT_INFLATE_LIMITS,
  DEFAULT_MAX_CAP_LEN,
  DEFAULT_MAX_FRAME,
  decodeFrame,
  decodeStartPayload,
  encodeFrame,
  encodePadFrame,
  Flags,
  type Frame,
  FrameDecoder,
  FrameHeaderError,
  flagNames,
  HEADER_LEN,
  isPadFrame,
  isReason,
  OapError,
  PAD_FRAME_MIN,
  paddedBurstLength,
  padFrameLengths,
  padmeBucket,
  pow2Bucket,
  REASONS,
  RequestStreamTable,
  STATUS_CODES,
} from "../src/internal.js";
import { bytesOf, hexOf, plain } from "./support.js";

// The vectors of specs/oap-1.md §13, written by specs/vectors/generate.ts independently of this codec.

interface FrameFields {
  len: number;
  ver: number;
  flags: number;
  flag_names: string[];
  code: number;
  app_proto_id: number;
  tenant_id: string;
  cap_len: number;
  corr_id: string;
  cap_hex: string;
  payload_hex: string;
  meta: Record<string, unknown> | null;
  body_hex: string | null;
}

interface ValidVector {
  name: string;
  description: string;
  hex: string;
  frame: FrameFields;
  socket: { code: number; reason: string | null; close: boolean } | null;
}

interface ErrorExpect {
  code: number;
  reason: string;
  corr_id: string;
}

interface InvalidVector {
  name: string;
  description: string;
  hex: string;
  level: "header" | "stream";
  enforced_by: "decoder" | "stream_table" | "node";
  expect: ErrorExpect & { close: boolean; before?: ErrorExpect[] };
}

interface ShapingVectors {
  pad_frame_min: number;
  buckets: Array<{ scheme: "padme" | "pow2"; length: number; bucket: number; burst: number }>;
  bursts: Array<{
    name: string;
    scheme: "padme" | "pow2";
    max_frame: number;
    data_len: number;
    padded_len: number;
    pad_frame_lens: number[];
    data_hex: string;
    hex: string;
  }>;
}

interface VectorFile {
  spec: string;
  limits: { max_frame: number; max_inflight: number; max_cap_len: number };
  valid: ValidVector[];
  invalid: InvalidVector[];
  shaping: ShapingVectors;
}

const vectors = JSON.parse(
  readFileSync(new URL("../../../specs/vectors/oap-1.json", import.meta.url), "utf8"),
) as VectorFile;

const { limits } = vectors;
const headerLimits = { maxFrame: limits.max_frame };
const headerVectors = vectors.invalid.filter((v) => v.level === "header");
const streamVectors = vectors.invalid.filter((v) => v.level === "stream");
const NODE_SERVICES = new Set<number>([
  AppProtoId.CONTROL,
  AppProtoId.ECHO,
  AppProtoId.MAILBOX,
  AppProtoId.STORAGE,
]);

/** Splits a byte stream into frames with the incremental decoder. */
function framesOf(bytes: Uint8Array): Frame[] {
  const decoder = new FrameDecoder(headerLimits);
  const frames = decoder.push(bytes);
  expect(decoder.buffered).toBe(0);
  return frames;
}

function expectHeaderError(fn: () => unknown, want: InvalidVector["expect"]): FrameHeaderError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(FrameHeaderError);
  const err = caught as FrameHeaderError;
  expect({ code: err.code, reason: err.reason, corrId: err.corrId.toString(), fatal: err.fatal }).toEqual({
    code: want.code,
    reason: want.reason,
    corrId: want.corr_id,
    fatal: true,
  });
  return err;
}

describe("vector file", () => {
  it("matches the codec's limits and has enough vectors", () => {
    expect(vectors.spec).toBe("specs/oap-1.md");
    expect(limits.max_frame).toBe(DEFAULT_MAX_FRAME);
    expect(limits.max_cap_len).toBe(DEFAULT_MAX_CAP_LEN);
    expect(limits.max_inflight).toBe(4);
    expect(vectors.valid.length).toBeGreaterThanOrEqual(15);
    expect(vectors.invalid.length).toBeGreaterThanOrEqual(15);
    const names = [...vectors.valid, ...vectors.invalid].map((v) => v.name);
    expect(new Set(names).size).toBe(names.length);
  });

  it("uses only canonical reasons, each with its own status code", () => {
    for (const v of vectors.valid) {
      if (v.socket?.reason == null) continue;
      expect(isReason(v.socket.reason), v.name).toBe(true);
      expect(v.socket.code, v.name).toBe(REASONS[v.socket.reason as keyof typeof REASONS]);
    }
    for (const v of vectors.invalid) {
      for (const e of [...(v.expect.before ?? []), v.expect]) {
        expect(isReason(e.reason), v.name).toBe(true);
        expect(e.code, v.name).toBe(REASONS[e.reason as keyof typeof REASONS]);
      }
      // Header errors close the connection; stream errors never do.
      expect(v.expect.close, v.name).toBe(v.level === "header");
      expect(v.enforced_by === "decoder", v.name).toBe(v.level === "header");
    }
  });

  it("covers every header check and both length bounds", () => {
    const reasons = new Set(headerVectors.map((v) => v.expect.reason));
    expect([...reasons].sort()).toEqual(
      ["bad_flags", "bad_frame", "bad_version", "cap_on_non_start", "frame_too_large"].sort(),
    );
    const lens = headerVectors.map((v) => bytesOf(v.hex).readUInt32BE(0));
    expect(lens).toEqual(expect.arrayContaining([0, 37, limits.max_frame + 1, 0xffffffff]));
  });
});

describe("spec text (specs/oap-1.md)", () => {
  const spec = readFileSync(new URL("../../../specs/oap-1.md", import.meta.url), "utf8");
  /** The hex dump in the first code block after `heading`, without spaces or the elision mark. */
  const dumpAfter = (heading: string) => {
    const at = spec.indexOf(heading);
    expect(at).toBeGreaterThan(-1);
    const block = /```\n([\s\S]*?)```/.exec(spec.slice(at))?.[1] ?? "";
    return block.replace(/…/g, "").replace(/\s+/g, "");
  };
  const vectorHex = (name: string) => vectors.valid.find((v) => v.name === name)?.hex ?? "";

  /** Rows `| `name` | code | ...` of the table that follows `heading`. */
  const tableAfter = (heading: string) => {
    const at = spec.indexOf(heading);
    expect(at).toBeGreaterThan(-1);
    const rows: string[][] = [];
    for (const line of spec.slice(at).split("\n").slice(1)) {
      if (line.startsWith("## ")) break;
      if (!line.startsWith("|")) {
        if (rows.length > 0) break;
        continue;
      }
      rows.push(
        line
          .split("|")
          .map((cell) => cell.trim())
          .slice(1, -1),
      );
    }
    return rows.slice(2); // header and separator
  };

  it("§5 lists exactly the codec's status codes", () => {
    const codes = tableAfter("## 5. Status codes").map((row) => Number(row[0]));
    expect(codes).toEqual([...STATUS_CODES]);
  });

  it("§7 lists exactly the canonical reasons of reasons.ts, with the same codes", () => {
    const rows = tableAfter("The canonical reasons, with their codes.");
    const listed = Object.fromEntries(rows.map((row) => [row[0]?.replace(/`/g, ""), Number(row[1])]));
    expect(listed).toEqual(REASONS);
  });

  it("shows the hello_request vector byte for byte", () => {
    expect(dumpAfter("### 13.1")).toBe(vectorHex("hello_request"));
  });

  it("shows the start of the resp_error_frame vector", () => {
    const dump = dumpAfter("### 13.2");
    expect(dump.length).toBeGreaterThanOrEqual(2 * HEADER_LEN);
    expect(vectorHex("resp_error_frame").startsWith(dump)).toBe(true);
  });
});

describe.each(vectors.valid)("valid vector $name", (v) => {
  const bytes = bytesOf(v.hex);
  const f = v.frame;

  it("decodes to every listed field", () => {
    expect(f.tenant_id).toMatch(/^0x[0-9a-f]{32}$/);
    expect(f.corr_id).toMatch(/^[0-9]+$/);
    const frame = decodeFrame(bytes, headerLimits);
    expect(plain(frame)).toEqual({
      len: f.len,
      ver: f.ver,
      flags: f.flags,
      code: f.code,
      appProtoId: f.app_proto_id,
      tenantId: BigInt(f.tenant_id),
      capLen: f.cap_len,
      corrId: BigInt(f.corr_id),
      cap: f.cap_hex,
      payload: f.payload_hex,
    });
    expect(frame.len).toBe(bytes.byteLength);
    expect(flagNames(frame.flags)).toEqual(f.flag_names);
  });

  it("re-encodes byte for byte", () => {
    const encoded = encodeFrame({
      flags: f.flags,
      code: f.code,
      appProtoId: f.app_proto_id,
      tenantId: BigInt(f.tenant_id),
      corrId: BigInt(f.corr_id),
      cap: bytesOf(f.cap_hex),
      payload: bytesOf(f.payload_hex),
    });
    expect(encoded.toString("hex")).toBe(v.hex);
  });

  it("carries meta and body in the START layout (START frames only)", () => {
    const frame = decodeFrame(bytes, headerLimits);
    if ((frame.flags & Flags.START) === 0) {
      expect(f.meta).toBeNull();
      expect(f.body_hex).toBeNull();
      return;
    }
    const { meta, body } = decodeStartPayload(frame.payload);
    expect(meta).toEqual(f.meta);
    expect(hexOf(body)).toBe(f.body_hex);
  });

  it("comes out of the incremental decoder unchanged when fed one byte at a time", () => {
    const decoder = new FrameDecoder(headerLimits);
    const frames: Frame[] = [];
    let earlyFrames = 0;
    for (let i = 0; i < bytes.byteLength; i++) {
      frames.push(...decoder.push(bytes.subarray(i, i + 1)));
      if (i < bytes.byteLength - 1) earlyFrames = frames.length;
    }
    expect(earlyFrames).toBe(0);
    expect(frames.map(plain)).toEqual([plain(decodeFrame(bytes, headerLimits))]);
    expect(decoder.buffered).toBe(0);
  });

  it("gets the socket answer the stream table and the node's rules predict", () => {
    const frame = decodeFrame(bytes, headerLimits);
    // The node answers every frame but a PAD frame (§10.1), which it discards.
    expect(isPadFrame(frame)).toBe(v.socket === null);
    if (v.socket === null) return;
    const action = new RequestStreamTable(limits.max_inflight).classify(frame);
    expect(v.socket.close).toBe(false);
    if (v.socket.reason === "stream_violation") {
      expect(action.kind).toBe("reject");
      if (action.kind === "reject") expect(action.error.reason).toBe("stream_violation");
      return;
    }
    expect(action.kind).not.toBe("reject");
    expectNodeRule(v.socket.reason ?? "ok", frame, [frame]);
  });
});

/**
 * The node-level rule a frame breaks (or, for "ok", that it breaks none); `stream` is every
 * frame of its corr_id in the vector, which COMP rules judge as one body.
 */
function expectNodeRule(reason: string, frame: Frame, stream: Frame[]): void {
  const comp = (frame.flags & Flags.COMP) !== 0;
  const event = (frame.flags & Flags.EVENT) !== 0;
  switch (reason) {
    case "ok":
      expect(NODE_SERVICES.has(frame.appProtoId)).toBe(true);
      expect(event).toBe(false);
      expect(frame.cap.byteLength).toBeLessThanOrEqual(limits.max_cap_len);
      if (frame.flags & Flags.START) decodeStartPayload(frame.payload);
      if (comp && !(frame.flags & Flags.APP_E2E)) expect(inflateStream(stream)).toBe("ok");
      return;
    case "unsupported":
      expect(event).toBe(true);
      return;
    case "stream_violation":
      // The node's one stream rule beyond the table: COMP on every frame of a request or on none.
      expect(new Set(stream.map((f) => f.flags & Flags.COMP)).size).toBe(2);
      return;
    case "decompress_cap":
    case "ratio_cap":
    case "bad_compression":
      expect(comp).toBe(true);
      expect(inflateStream(stream)).toBe(reason);
      return;
    case "unknown_app":
      expect(NODE_SERVICES.has(frame.appProtoId)).toBe(false);
      return;
    case "cap_too_large":
      expect(frame.flags & Flags.START).toBe(Flags.START);
      expect(frame.cap.byteLength).toBeGreaterThan(limits.max_cap_len);
      return;
    case "bad_meta":
      expect(() => decodeStartPayload(frame.payload)).toThrowError(
        expect.objectContaining({ reason: "bad_meta", code: 400 }),
      );
      return;
    default:
      throw new Error(`no node rule known for ${reason}`);
  }
}

describe.each(headerVectors)("invalid header vector $name", (v) => {
  const bytes = bytesOf(v.hex);

  it("fails decodeFrame with the expected code, reason and corr_id", () => {
    expect(bytes.byteLength).toBeGreaterThanOrEqual(HEADER_LEN);
    expectHeaderError(() => decodeFrame(bytes, headerLimits), v.expect);
  });

  it("fails FrameDecoder.push the same way, and the decoder stays poisoned", () => {
    const decoder = new FrameDecoder(headerLimits);
    const first = expectHeaderError(() => decoder.push(bytes), v.expect);
    expect(decoder.buffered).toBe(0);
    expect(() => decoder.push(new Uint8Array(0))).toThrow(first);
    expect(() => decoder.push(bytesOf(vectors.valid[0]?.hex ?? ""))).toThrow(first);
  });

  it("is rejected by the decoder exactly when the 38th header byte arrives", () => {
    const decoder = new FrameDecoder(headerLimits);
    for (let i = 0; i < HEADER_LEN - 1; i++) {
      expect(decoder.push(bytes.subarray(i, i + 1))).toEqual([]);
    }
    expectHeaderError(() => decoder.push(bytes.subarray(HEADER_LEN - 1)), v.expect);
    expect(decoder.buffered).toBe(0);
  });
});

describe.each(streamVectors)("invalid stream vector $name ($enforced_by)", (v) => {
  const bytes = bytesOf(v.hex);

  it("is made of whole, header-valid frames", () => {
    const frames = framesOf(bytes);
    expect(frames.length).toBeGreaterThan(0);
    let at = 0;
    for (const frame of frames) {
      const one = bytes.subarray(at, at + frame.len);
      expect(plain(decodeFrame(one, headerLimits))).toEqual(plain(frame));
      at += frame.len;
    }
    expect(at).toBe(bytes.byteLength);
    expect(frames.some((f) => f.corrId.toString() === v.expect.corr_id)).toBe(true);
  });

  if (v.enforced_by === "stream_table") {
    it("makes the request stream table reject exactly the expected frames", () => {
      const table = new RequestStreamTable(limits.max_inflight);
      const rejects: ErrorExpect[] = [];
      const frames = framesOf(bytes);
      frames.forEach((frame, i) => {
        const action = table.classify(frame);
        if (action.kind !== "reject") return;
        expect(action.error).toBeInstanceOf(OapError);
        rejects.push({
          code: action.error.code,
          reason: action.error.reason,
          corr_id: frame.corrId.toString(),
        });
        if (action.error.reason === "too_many_streams") expect(action.error.retryAfterMs).toBeGreaterThan(0);
        // The expected error is the reply to the last frame of the vector.
        if (rejects.length === (v.expect.before?.length ?? 0) + 1) expect(i).toBe(frames.length - 1);
      });
      const { code, reason, corr_id } = v.expect;
      expect(rejects).toEqual([...(v.expect.before ?? []), { code, reason, corr_id }]);
    });
  } else {
    it("passes the stream table and breaks the node rule its reason names", () => {
      const table = new RequestStreamTable(limits.max_inflight);
      const frames = framesOf(bytes);
      for (const frame of frames) expect(table.classify(frame).kind).not.toBe("reject");
      const target = frames.findLast((f) => f.corrId.toString() === v.expect.corr_id);
      expect(target).toBeDefined();
      const stream = frames.filter((f) => f.corrId.toString() === v.expect.corr_id);
      expectNodeRule(v.expect.reason, target as Frame, stream);
    });
  }
});

describe("shaping vectors (§10.1)", () => {
  const { shaping } = vectors;

  it("agree with the codec's PAD frame size and bucket functions", () => {
    expect(shaping.pad_frame_min).toBe(PAD_FRAME_MIN);
    expect(shaping.buckets.length).toBeGreaterThan(0);
    for (const c of shaping.buckets) {
      const bucket = c.scheme === "padme" ? padmeBucket(c.length) : pow2Bucket(c.length);
      expect(bucket, `${c.scheme}(${c.length})`).toBe(c.bucket);
      expect(paddedBurstLength(c.length, c.scheme), `${c.scheme} burst of ${c.length}`).toBe(c.burst);
    }
  });

  describe.each(shaping.bursts)("burst $name", (b) => {
    it("is rebuilt byte for byte from its data by the codec", () => {
      const data = bytesOf(b.data_hex);
      expect(data.byteLength).toBe(b.data_len);
      const target = paddedBurstLength(b.data_len, b.scheme);
      expect(target).toBe(b.padded_len);
      const lengths = padFrameLengths(target - b.data_len, b.max_frame);
      expect(lengths).toEqual(b.pad_frame_lens);
      expect(hexOf(Buffer.concat([data, ...lengths.map(encodePadFrame)]))).toBe(b.hex);
    });

    it("decodes as its data frames, then PAD frames no longer than max_frame", () => {
      const frames = new FrameDecoder({ maxFrame: b.max_frame }).push(bytesOf(b.hex));
      const data = framesOf(bytesOf(b.data_hex));
      expect(frames.slice(0, data.length).some(isPadFrame)).toBe(false);
      expect(frames.slice(data.length).map((f) => [isPadFrame(f), f.len])).toEqual(
        b.pad_frame_lens.map((len) => [true, len]),
      );
    });
  });
});

/** Inflates a COMP request's body frame by frame with the default caps: "ok" or the refusal's reason. */
function inflateStream(stream: Frame[]): string {
  const inflater = new BoundedInflater(DEFAULT_INFLATE_LIMITS);
  try {
    for (const f of stream) {
      inflater.push(f.flags & Flags.START ? decodeStartPayload(f.payload).body : f.payload);
    }
    inflater.finish();
    return "ok";
  } catch (err) {
    expect(err).toBeInstanceOf(OapError);
    return (err as OapError).reason;
  }
}
