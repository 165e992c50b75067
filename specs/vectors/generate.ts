/**
 * Writes specs/vectors/oap-1.json, the OAP/1 test vectors of specs/oap-1.md §13.
 *
 *   npx tsx specs/vectors/generate.ts
 *
 * The bytes are built here with plain Buffer writes, on purpose independent of
 * packages/oap: the vectors check the codec, so they must not come from it.
 * The output is deterministic; re-running it on an unchanged file changes nothing.
 */
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

// ---- §2 header layout, restated ---------------------------------------------------------

const HEADER_LEN = 38;
const MAX_FRAME = 1_048_576;

const REQ = 0x01;
const RESP = 0x02;
const EVENT = 0x04;
const START = 0x08;
const END = 0x10;
const ACK_REQ = 0x20;
const COMP = 0x40;
const APP_E2E = 0x80;

const FLAG_NAMES: ReadonlyArray<readonly [string, number]> = [
  ["REQ", REQ],
  ["RESP", RESP],
  ["EVENT", EVENT],
  ["START", START],
  ["END", END],
  ["ACK_REQ", ACK_REQ],
  ["COMP", COMP],
  ["APP_E2E", APP_E2E],
];

const CONTROL = 0x0000;
const ECHO = 0x0101;
const MAILBOX = 0x0201;

/** Node limits a socket conformance run starts the node with. */
const LIMITS = { max_frame: MAX_FRAME, max_inflight: 4, max_cap_len: 4096 };

const U64_MAX = (1n << 64n) - 1n;
const U128_MAX = (1n << 128n) - 1n;

interface RawFrame {
  flags: number;
  code?: number;
  app: number;
  tenant?: bigint;
  corr: bigint;
  cap?: Buffer;
  payload?: Buffer;
  /** Overrides for invalid headers. */
  ver?: number;
  len?: number;
  capLen?: number;
  /** Write only this many bytes (e.g. only the 38 header bytes of a huge frame). */
  truncate?: number;
}

function frameBytes(f: RawFrame): Buffer {
  const cap = f.cap ?? Buffer.alloc(0);
  const payload = f.payload ?? Buffer.alloc(0);
  const len = f.len ?? HEADER_LEN + cap.length + payload.length;
  const tenant = f.tenant ?? 0n;
  const head = Buffer.alloc(HEADER_LEN);
  head.writeUInt32BE(len, 0);
  head.writeUInt16BE(f.ver ?? 1, 4);
  head.writeUInt16BE(f.flags, 6);
  head.writeUInt16BE(f.code ?? 0, 8);
  head.writeUInt16BE(f.app, 10);
  head.writeBigUInt64BE(tenant >> 64n, 12);
  head.writeBigUInt64BE(tenant & U64_MAX, 20);
  head.writeUInt16BE(f.capLen ?? cap.length, 28);
  head.writeBigUInt64BE(f.corr, 30);
  const all = Buffer.concat([head, cap, payload]);
  return f.truncate === undefined ? all : all.subarray(0, f.truncate);
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** START payload: meta_len u16 | meta JSON | body. An empty meta object is sent as meta_len 0. */
function startPayload(meta: JsonObject, body: Buffer = Buffer.alloc(0)): Buffer {
  const json = Object.keys(meta).length === 0 ? Buffer.alloc(0) : Buffer.from(JSON.stringify(meta), "utf8");
  return rawStartPayload(json, body);
}

function rawStartPayload(
  metaBytes: Buffer,
  body: Buffer = Buffer.alloc(0),
  metaLen = metaBytes.length,
): Buffer {
  const len = Buffer.alloc(2);
  len.writeUInt16BE(metaLen, 0);
  return Buffer.concat([len, metaBytes, body]);
}

/** Deterministic filler bytes (not random, so the file is reproducible). */
function pattern(n: number, seed: number): Buffer {
  const out = Buffer.alloc(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

const text = (s: string) => Buffer.from(s, "utf8");

// ---- zstd frames (RFC 8878), written by hand for the COMP vectors of §10 -------------------

const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);
const RAW_BLOCK = 0;
const RLE_BLOCK = 1;

function zstdBlockHeader(last: boolean, type: number, size: number): Buffer {
  const v = (size << 3) | (type << 1) | (last ? 1 : 0);
  return Buffer.from([v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff]);
}

/** A valid frame holding `content` (< 256 bytes) as one raw block: single segment, 1-byte content size. */
function zstdRawFrame(content: Buffer): Buffer {
  if (content.length > 255) throw new Error("zstdRawFrame takes < 256 bytes");
  return Buffer.concat([
    ZSTD_MAGIC,
    Buffer.from([0x20, content.length]),
    zstdBlockHeader(true, RAW_BLOCK, content.length),
    content,
  ]);
}

/**
 * A frame of `blocks` RLE blocks of `blockSize` bytes each (4 wire bytes per block): the
 * classic decompression bomb. The header names a window of 2^windowLog bytes and, when given,
 * a declared content size of 8 bytes (which the node must never size anything from).
 */
function zstdRleFrame(
  windowLog: number,
  blockSize: number,
  blocks: number,
  opts: { declared?: bigint; last?: boolean } = {},
): Buffer {
  const parts = [ZSTD_MAGIC, zstdRleHead(windowLog, opts.declared)];
  for (let i = 0; i < blocks; i++) {
    const last = (opts.last ?? true) && i === blocks - 1;
    parts.push(zstdBlockHeader(last, RLE_BLOCK, blockSize), Buffer.from([0x61]));
  }
  return Buffer.concat(parts);
}

function zstdRleHead(windowLog: number, declared: bigint | undefined): Buffer {
  const descriptor = Buffer.from([declared === undefined ? 0x00 : 0xc0, (windowLog - 10) << 3]);
  if (declared === undefined) return descriptor;
  const size = Buffer.alloc(8);
  size.writeBigUInt64LE(declared, 0);
  return Buffer.concat([descriptor, size]);
}

/** RLE blocks with no frame header: the continuation of a frame begun in an earlier OAP frame. */
function zstdRleBlocks(blockSize: number, blocks: number, lastEndsFrame: boolean): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < blocks; i++) {
    parts.push(zstdBlockHeader(lastEndsFrame && i === blocks - 1, RLE_BLOCK, blockSize), Buffer.from([0x61]));
  }
  return Buffer.concat(parts);
}

/** A single-segment frame declaring a 1 TiB content size: its window is the declared size. */
const zstdDeclaresTerabyte = Buffer.concat([
  ZSTD_MAGIC,
  Buffer.from([0xe0]),
  (() => {
    const size = Buffer.alloc(8);
    size.writeBigUInt64LE(1n << 40n, 0);
    return size;
  })(),
  zstdBlockHeader(true, RLE_BLOCK, 128 * 1024),
  Buffer.from([0x61]),
]);

/** A skippable frame (magic 0x184D2A50): decoders skip its payload. */
function zstdSkippable(payload: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32LE(0x184d2a50, 0);
  head.writeUInt32LE(payload.length, 4);
  return Buffer.concat([head, payload]);
}
const tenantHex = (t: bigint) => `0x${t.toString(16).padStart(32, "0")}`;

// ---- §10.1 PAD frames and padding, restated --------------------------------------------------

const PAD_META: JsonObject = { event: "pad" };
/** Header, meta_len and the 15 bytes of {"event":"pad"}. */
const PAD_FRAME_MIN = HEADER_LEN + 2 + 15;

function padFrame(len: number): Buffer {
  return frameBytes({
    flags: EVENT | START | END,
    app: CONTROL,
    corr: 0n,
    payload: startPayload(PAD_META, Buffer.alloc(len - PAD_FRAME_MIN)),
  });
}

/** Padmé, as PURBs (PETS 2019) writes it: E = ⌊log2 L⌋, S = ⌊log2 E⌋ + 1, the low E − S bits rounded up. */
function padme(len: number): number {
  if (len < 2) return len;
  const e = Math.floor(Math.log2(len));
  const s = Math.floor(Math.log2(e)) + 1;
  const mask = 2 ** (e - s) - 1;
  return (len + mask) & ~mask;
}

function pow2(len: number): number {
  let bucket = 64;
  while (bucket < len) bucket *= 2;
  return bucket;
}

type Scheme = "padme" | "pow2";
const bucketOf = (len: number, scheme: Scheme) => (scheme === "padme" ? padme(len) : pow2(len));

/** The padded length of a burst of `len` bytes: a bucket that leaves 0 or ≥ 55 bytes for PAD frames. */
function burstTarget(len: number, scheme: Scheme): number {
  const bucket = bucketOf(len, scheme);
  return bucket > len && bucket - len < PAD_FRAME_MIN ? bucketOf(len + PAD_FRAME_MIN, scheme) : bucket;
}

/** PAD frames of `total` bytes, each 55..maxFrame bytes. */
function padFrames(total: number, maxFrame: number): Buffer[] {
  const frames: Buffer[] = [];
  let rest = total;
  while (rest > maxFrame) {
    const take = rest - maxFrame >= PAD_FRAME_MIN ? maxFrame : rest - PAD_FRAME_MIN;
    frames.push(padFrame(take));
    rest -= take;
  }
  if (rest > 0) frames.push(padFrame(rest));
  return frames;
}

// ---- valid vectors -----------------------------------------------------------------------

interface SocketReply {
  code: number;
  reason: string | null;
  close: boolean;
  /** The body of the first response frame (echo of an inflated COMP body). */
  body_hex?: string;
}

interface ValidSpec {
  name: string;
  description: string;
  frame: RawFrame;
  /** Meta as sent (START frames only); the generator re-checks it against the payload. */
  meta?: JsonObject;
  body?: Buffer;
  socket: SocketReply | null;
}

const OK: SocketReply = { code: 200, reason: null, close: false };
const VIOLATION: SocketReply = { code: 400, reason: "stream_violation", close: false };
const UNSUPPORTED: SocketReply = { code: 400, reason: "unsupported", close: false };
const UNKNOWN_APP: SocketReply = { code: 404, reason: "unknown_app", close: false };

function start(
  name: string,
  description: string,
  f: Omit<RawFrame, "payload">,
  meta: JsonObject,
  body: Buffer,
  socket: SocketReply | null,
): ValidSpec {
  return { name, description, frame: { ...f, payload: startPayload(meta, body) }, meta, body, socket };
}

const helloMeta = { versions: [1], client: "omnigate-vectors/1" };
const e2eBody = pattern(48, 7);
const smallCap = pattern(32, 11);
const maxCap = pattern(4096, 13);
const bigCap = pattern(5000, 17);
const errorMeta = { reason: "too_many_streams", message: "slow down", retry_after_ms: 250 };

const appEdge = (id: number, range: string): ValidSpec =>
  start(
    `app_id_${id.toString(16).padStart(4, "0")}`,
    `REQ|START|END for app_proto_id 0x${id.toString(16).padStart(4, "0")} (${range}); no service or app is ` +
      "registered there on the conformance node, so it answers 404 unknown_app.",
    { flags: REQ | START | END, app: id, corr: BigInt(id) },
    {},
    Buffer.alloc(0),
    UNKNOWN_APP,
  );

const valid: ValidSpec[] = [
  start(
    "hello_request",
    "The smallest HELLO: app_proto_id 0, REQ|START|END, empty meta (meta_len 0), no body. §8, worked example in §13.",
    { flags: REQ | START | END, app: CONTROL, corr: 1n },
    {},
    Buffer.alloc(0),
    OK,
  ),
  start(
    "hello_request_with_meta",
    "HELLO naming the versions the client speaks and a client identifier. §8.",
    { flags: REQ | START | END, app: CONTROL, corr: 2n },
    helloMeta,
    Buffer.alloc(0),
    OK,
  ),
  start(
    "echo_meta_and_body",
    "One-frame echo request with meta and a body; echo answers 200 with the same meta and body. §11.1.",
    { flags: REQ | START | END, app: ECHO, corr: 3n },
    { op: "ping", seq: 1 },
    text("hello, oap"),
    OK,
  ),
  start(
    "echo_empty_meta",
    "Echo request whose meta is empty (meta_len 0) followed by a 3-byte body. §6.",
    { flags: REQ | START | END, app: ECHO, corr: 4n },
    {},
    text("abc"),
    OK,
  ),
  start(
    "echo_app_e2e",
    "APP_E2E echo request: meta is plaintext and routable, the 48-byte body is opaque ciphertext the node " +
      "must forward byte-exact. §10.",
    { flags: REQ | START | END | APP_E2E, app: ECHO, corr: 5n },
    { e2e: "xchacha20poly1305", kid: "k1" },
    e2eBody,
    OK,
  ),
  start(
    "echo_utf8_meta",
    "Echo request whose meta holds non-ASCII UTF-8 (2-, 3- and 4-byte sequences). §6.",
    { flags: REQ | START | END, app: ECHO, corr: 6n },
    { greeting: "grüß dich — こんにちは 🚀" },
    Buffer.alloc(0),
    OK,
  ),
  start(
    "echo_tenant_max",
    "Echo request with tenant_id = 2^128−1 (all 16 tenant bytes 0xff). §2.",
    { flags: REQ | START | END, app: ECHO, tenant: U128_MAX, corr: 7n },
    {},
    text("t"),
    OK,
  ),
  start(
    "echo_corr_max",
    "Echo request with corr_id = 2^64−1. §2.",
    { flags: REQ | START | END, app: ECHO, corr: U64_MAX },
    {},
    text("c"),
    OK,
  ),
  start(
    "echo_with_cap",
    "START frame carrying a 32-byte capability section between header and payload (cap_len 32). The bytes " +
      "are not a real token: the conformance node runs with capability checks off. §2, §13.",
    { flags: REQ | START | END, app: ECHO, tenant: 42n, corr: 9n, cap: smallCap },
    { op: "with-cap" },
    text("x"),
    OK,
  ),
  start(
    "echo_with_max_cap",
    "START frame with a capability of exactly max_cap_len = 4096 bytes: accepted. §9.",
    { flags: REQ | START | END, app: ECHO, corr: 10n, cap: maxCap },
    {},
    Buffer.alloc(0),
    OK,
  ),
  start(
    "echo_cap_too_large",
    "A header-valid START frame with a 5000-byte capability, over max_cap_len 4096: a stream error " +
      "(413 cap_too_large), not a header error, so the connection stays open. §4, §9.",
    { flags: REQ | START | END, app: ECHO, corr: 11n, cap: bigCap },
    {},
    Buffer.alloc(0),
    { code: 413, reason: "cap_too_large", close: false },
  ),
  start(
    "echo_comp",
    "COMP echo request: the body is one zstd frame (a raw block holding 'hello, zstd'). The node inflates " +
      "it on the way in; echo answers 200 with the inflated body. §10.",
    { flags: REQ | START | END | COMP, app: ECHO, corr: 12n },
    {},
    zstdRawFrame(text("hello, zstd")),
    { ...OK, body_hex: text("hello, zstd").toString("hex") },
  ),
  start(
    "echo_comp_concatenated",
    "COMP body made of two zstd frames back to back ('hello, ' then 'zstd'): they inflate to one body. §10.",
    { flags: REQ | START | END | COMP, app: ECHO, corr: 30n },
    {},
    Buffer.concat([zstdRawFrame(text("hello, ")), zstdRawFrame(text("zstd"))]),
    { ...OK, body_hex: text("hello, zstd").toString("hex") },
  ),
  start(
    "echo_comp_skippable",
    "COMP body: a skippable frame, then a frame holding 'abc'. Skippable frames inflate to nothing. §10.",
    { flags: REQ | START | END | COMP, app: ECHO, corr: 31n },
    {},
    Buffer.concat([zstdSkippable(text("ignored")), zstdRawFrame(text("abc"))]),
    { ...OK, body_hex: text("abc").toString("hex") },
  ),
  start(
    "echo_comp_nested",
    "COMP body whose content is itself a zstd frame: the node inflates once, so echo returns the inner " +
      "frame's bytes. §10.",
    { flags: REQ | START | END | COMP, app: ECHO, corr: 32n },
    {},
    zstdRawFrame(zstdRawFrame(text("inner"))),
    { ...OK, body_hex: zstdRawFrame(text("inner")).toString("hex") },
  ),
  start(
    "echo_comp_rle_under_caps",
    "COMP body of one RLE block: 60000 × 'a' from 15 bytes. The ratio is 4000:1 but the output stays " +
      "under the 64 KiB grace of the ratio cap: accepted. §10.",
    { flags: REQ | START | END | COMP, app: ECHO, corr: 33n },
    {},
    zstdRleFrame(17, 60_000, 1),
    OK,
  ),
  start(
    "echo_app_e2e_comp",
    "APP_E2E|COMP echo request: the node never inflates an APP_E2E body, so these bytes (not zstd at all) " +
      "pass through byte-exact and echo answers 200 with them. §10.",
    { flags: REQ | START | END | APP_E2E | COMP, app: ECHO, corr: 34n },
    {},
    text("not really zstd"),
    { ...OK, body_hex: text("not really zstd").toString("hex") },
  ),
  start(
    "event_to_echo",
    "A fire-and-forget EVENT|START|END. Echo takes no events: 400 unsupported. §4.",
    { flags: EVENT | START | END, app: ECHO, corr: 13n },
    { topic: "t1" },
    text("evt"),
    UNSUPPORTED,
  ),
  start(
    "event_ack_req",
    "An EVENT with ACK_REQ (asks the peer to acknowledge / grants push credit). Echo takes no events: " +
      "400 unsupported. §4.",
    { flags: EVENT | START | END | ACK_REQ, app: ECHO, corr: 14n },
    { credit: 8 },
    Buffer.alloc(0),
    UNSUPPORTED,
  ),
  start(
    "resp_ok",
    "A one-frame success response RESP|START|END, code 200, body 'pong'. Valid on the wire, but a node " +
      "receiving it from a client answers 400 stream_violation and keeps the connection. §4.",
    { flags: RESP | START | END, code: 200, app: ECHO, corr: 15n },
    {},
    text("pong"),
    VIOLATION,
  ),
  start(
    "resp_error_frame",
    "An error frame as a node sends it: RESP|START|END, code 429, meta {reason, message, retry_after_ms}, " +
      "empty body. Sent by a client it is a stream_violation. §7.",
    { flags: RESP | START | END, code: 429, app: ECHO, corr: 16n },
    errorMeta,
    Buffer.alloc(0),
    VIOLATION,
  ),
  start(
    "unknown_app_0999",
    "Well-formed request for app_proto_id 0x0999, a platform id with no service: 404 unknown_app. §11.",
    { flags: REQ | START | END, app: 0x0999, corr: 17n },
    { op: "x" },
    Buffer.alloc(0),
    UNKNOWN_APP,
  ),
  appEdge(0x0fff, "last platform id"),
  appEdge(0x1000, "first registered-app id"),
  appEdge(0xefff, "last registered-app id"),
  appEdge(0xf000, "first private id"),
  appEdge(0xffff, "last private id"),
  start(
    "echo_start_without_end",
    "The first frame of a multi-frame request (REQ|START, no END). Echo streams each chunk back as it " +
      "arrives, so the node answers with a RESP|START frame, code 200, at once. §4, §11.1.",
    { flags: REQ | START, app: ECHO, corr: 24n },
    { op: "stream" },
    text("part-1"),
    OK,
  ),
  {
    name: "req_continuation_end",
    description:
      "A request continuation REQ|END carrying body bytes only (no meta_len). Alone on a fresh connection it " +
      "has no open stream: 400 stream_violation. §4, §6.",
    frame: { flags: REQ | END, app: ECHO, corr: 25n, payload: text("tail") },
    socket: VIOLATION,
  },
  {
    name: "resp_end_len_38",
    description:
      "The smallest frame: len exactly 38, a RESP|END continuation with empty payload. From a client: " +
      "400 stream_violation. §2, §4.",
    frame: { flags: RESP | END, code: 200, app: ECHO, corr: 26n },
    socket: VIOLATION,
  },
  start(
    "pad_frame_min",
    "The smallest PAD frame (55 bytes): EVENT|START|END on app_proto_id 0, tenant 0, corr_id 0, meta " +
      '{"event":"pad"}, no filler. A receiver discards it: no reply, no error. §10.1.',
    { flags: EVENT | START | END, app: CONTROL, corr: 0n },
    PAD_META,
    Buffer.alloc(0),
    null,
  ),
  start(
    "pad_frame_filler",
    "A 128-byte PAD frame: the same 55 bytes, then 73 bytes of zero filler. Discarded, no reply. §10.1.",
    { flags: EVENT | START | END, app: CONTROL, corr: 0n },
    PAD_META,
    Buffer.alloc(128 - PAD_FRAME_MIN),
    null,
  ),
  start(
    "pad_lookalike_corr_1",
    'A control EVENT with meta {"event":"pad"} but corr_id 1: not a PAD frame (every field must match), ' +
      "so it is an ordinary control event, which the node does not take: 400 unsupported. §4.5, §10.1.",
    { flags: EVENT | START | END, app: CONTROL, corr: 1n },
    PAD_META,
    Buffer.alloc(0),
    UNSUPPORTED,
  ),
  start(
    "hello_request_shaping",
    "HELLO asking for traffic shaping of the node's sends: Padmé padding, up to 20 ms jitter, cover " +
      "bursts at 5 per second of up to 2048 bytes. The reply carries the granted shaping (see " +
      "shaping.hello). §8, §10.1.",
    { flags: REQ | START | END, app: CONTROL, corr: 35n },
    { ...helloMeta, shaping: { padding: "padme", jitter_ms: 20, cover_hz: 5, cover_max_bytes: 2048 } },
    Buffer.alloc(0),
    OK,
  ),
];

// ---- invalid vectors ---------------------------------------------------------------------

interface ErrorExpect {
  code: number;
  reason: string;
  corr_id: string;
}

interface InvalidSpec {
  name: string;
  description: string;
  frames: RawFrame[];
  level: "header" | "stream";
  enforced_by: "decoder" | "stream_table" | "node";
  expect: ErrorExpect & { close: boolean; before?: ErrorExpect[] };
}

const REASON_CODES: Record<string, number> = {
  bad_frame: 400,
  bad_version: 400,
  bad_flags: 400,
  frame_too_large: 413,
  cap_on_non_start: 400,
  cap_too_large: 413,
  bad_meta: 400,
  stream_violation: 400,
  too_many_streams: 429,
  unsupported: 400,
  unknown_app: 404,
  decompress_cap: 413,
  ratio_cap: 413,
  bad_compression: 400,
};

function err(reason: string, corr: bigint): ErrorExpect {
  const code = REASON_CODES[reason];
  if (code === undefined) throw new Error(`no code for ${reason}`);
  return { code, reason, corr_id: corr.toString() };
}

/** Key order as the spec shows it: code, reason, close, corr_id. */
function withClose(e: ErrorExpect, close: boolean) {
  return { code: e.code, reason: e.reason, close, corr_id: e.corr_id };
}

/** A header-level vector: one frame (possibly only its 38 header bytes), fatal error, connection closes. */
function headerCase(name: string, description: string, frame: RawFrame, reason: string): InvalidSpec {
  return {
    name,
    description,
    frames: [frame],
    level: "header",
    enforced_by: "decoder",
    expect: withClose(err(reason, frame.corr), true),
  };
}

function streamCase(
  name: string,
  description: string,
  frames: RawFrame[],
  enforcedBy: "stream_table" | "node",
  final: ErrorExpect,
  before?: ErrorExpect[],
): InvalidSpec {
  return {
    name,
    description,
    frames,
    level: "stream",
    enforced_by: enforcedBy,
    expect: { ...withClose(final, false), ...(before ? { before } : {}) },
  };
}

const emptyStart = startPayload({});
const compStart = (corr: bigint, body: Buffer): RawFrame => ({
  flags: REQ | START | END | COMP,
  app: ECHO,
  corr,
  payload: startPayload({}, body),
});
const hello = (corr: bigint, extra: Partial<RawFrame>): RawFrame => ({
  flags: REQ | START | END,
  app: CONTROL,
  corr,
  payload: emptyStart,
  ...extra,
});
const headerOnly = (corr: bigint, extra: Partial<RawFrame>): RawFrame => ({
  flags: REQ | START | END,
  app: ECHO,
  corr,
  ...extra,
  truncate: HEADER_LEN,
});
const echoStart = (corr: bigint, body: string, extra: Partial<RawFrame> = {}): RawFrame => ({
  flags: REQ | START,
  app: ECHO,
  corr,
  payload: startPayload({}, text(body)),
  ...extra,
});
const cont = (corr: bigint, body: string, extra: Partial<RawFrame> = {}): RawFrame => ({
  flags: REQ,
  app: ECHO,
  corr,
  payload: text(body),
  ...extra,
});
const badMeta = (corr: bigint, payload: Buffer): RawFrame => ({
  flags: REQ | START | END,
  app: ECHO,
  corr,
  payload,
});

const invalid: InvalidSpec[] = [
  // §3 check 1: reserved flag bits.
  headerCase(
    "reserved_flag_bit8",
    "HELLO with reserved flag bit 8 (0x0100) set: check 1, 400 bad_flags.",
    hello(101n, { flags: 0x0100 | REQ | START | END }),
    "bad_flags",
  ),
  headerCase(
    "reserved_flag_bit15",
    "HELLO with reserved flag bit 15 (0x8000) set: check 1, 400 bad_flags.",
    hello(102n, { flags: 0x8000 | REQ | START | END }),
    "bad_flags",
  ),
  // §3 check 2: version.
  headerCase("version_0", "ver 0: check 2, 400 bad_version.", hello(103n, { ver: 0 }), "bad_version"),
  headerCase("version_2", "ver 2: check 2, 400 bad_version.", hello(104n, { ver: 2 }), "bad_version"),
  // §3 check 3: length bounds.
  headerCase(
    "len_37",
    "len 37, one below the header size (the 38 header bytes are present): check 3, 400 bad_frame.",
    headerOnly(105n, { len: 37 }),
    "bad_frame",
  ),
  headerCase(
    "len_0",
    "len 0 (the 38 header bytes are present): check 3, 400 bad_frame.",
    headerOnly(106n, { len: 0 }),
    "bad_frame",
  ),
  headerCase(
    "len_max_frame_plus_1",
    "len = max_frame + 1 = 1048577 with only the 38 header bytes present: rejected before any body byte " +
      "is read, check 3, 413 frame_too_large.",
    headerOnly(107n, { len: MAX_FRAME + 1 }),
    "frame_too_large",
  ),
  headerCase(
    "len_u32_max",
    "len = 0xFFFFFFFF with only the 38 header bytes present: check 3, 413 frame_too_large.",
    headerOnly(108n, { len: 0xffffffff }),
    "frame_too_large",
  ),
  // §3 check 4: cap without START.
  headerCase(
    "cap_without_start",
    "REQ|END continuation with a 4-byte capability: check 4, 400 cap_on_non_start.",
    { flags: REQ | END, app: ECHO, corr: 109n, cap: pattern(4, 3), payload: text("b") },
    "cap_on_non_start",
  ),
  // §3 check 5: cap longer than the frame.
  headerCase(
    "cap_len_past_len",
    "REQ|START|END of len 40 whose cap_len is 3 (38 + 3 > 40): check 5, 400 bad_frame.",
    hello(110n, { app: ECHO, capLen: 3 }),
    "bad_frame",
  ),
  headerCase(
    "cap_len_u16_max",
    "REQ|START|END of len 40 whose cap_len is 0xFFFF: check 5, 400 bad_frame.",
    hello(111n, { app: ECHO, capLen: 0xffff }),
    "bad_frame",
  ),
  // §3 check 6: exactly one kind flag.
  headerCase(
    "no_kind_flag",
    "START|END with none of REQ/RESP/EVENT: check 6, 400 bad_flags.",
    hello(112n, { flags: START | END }),
    "bad_flags",
  ),
  headerCase(
    "req_and_resp",
    "REQ|RESP|START|END: two kind flags, check 6, 400 bad_flags.",
    hello(113n, { flags: REQ | RESP | START | END }),
    "bad_flags",
  ),
  headerCase(
    "req_resp_event",
    "REQ|RESP|EVENT|START|END: three kind flags, check 6, 400 bad_flags.",
    hello(114n, { flags: REQ | RESP | EVENT | START | END }),
    "bad_flags",
  ),
  headerCase(
    "resp_and_event",
    "RESP|EVENT|START|END: two kind flags, check 6, 400 bad_flags.",
    hello(115n, { flags: RESP | EVENT | START | END, code: 200 }),
    "bad_flags",
  ),
  // §3 order: several checks fail; the first in order decides.
  headerCase(
    "order_reserved_before_version",
    "Reserved bit 9 set and ver 2: check 1 runs first, 400 bad_flags.",
    hello(116n, { flags: 0x0200 | REQ | START | END, ver: 2 }),
    "bad_flags",
  ),
  headerCase(
    "order_version_before_len",
    "ver 0 and len 0: check 2 runs before check 3, 400 bad_version.",
    headerOnly(117n, { ver: 0, len: 0 }),
    "bad_version",
  ),
  headerCase(
    "order_len_before_cap_on_non_start",
    "len 37 and cap_len 4 on a REQ|END: check 3 runs before check 4, 400 bad_frame.",
    headerOnly(118n, { flags: REQ | END, len: 37, capLen: 4 }),
    "bad_frame",
  ),
  headerCase(
    "order_too_large_before_cap_on_non_start",
    "len max_frame + 1 and cap_len 4 on an EVENT without START: check 3, 413 frame_too_large.",
    headerOnly(119n, { flags: EVENT, len: MAX_FRAME + 1, capLen: 4 }),
    "frame_too_large",
  ),
  headerCase(
    "order_cap_on_non_start_before_cap_fit",
    "REQ|END of len 40 with cap_len 100: check 4 runs before check 5, 400 cap_on_non_start.",
    hello(120n, { flags: REQ | END, capLen: 100 }),
    "cap_on_non_start",
  ),
  headerCase(
    "order_cap_fit_before_kind",
    "START|END (no kind flag) of len 40 with cap_len 100: check 5 runs before check 6, 400 bad_frame.",
    hello(121n, { flags: START | END, capLen: 100 }),
    "bad_frame",
  ),
  headerCase(
    "order_cap_on_non_start_before_kind",
    "END alone (no kind flag, no START) with a 2-byte cap: check 4 runs before check 6, 400 cap_on_non_start.",
    { flags: END, app: ECHO, corr: 122n, cap: pattern(2, 5) },
    "cap_on_non_start",
  ),
  headerCase(
    "order_version_before_kind",
    "ver 2 and no kind flag: check 2 runs before check 6, 400 bad_version.",
    hello(123n, { flags: START | END, ver: 2 }),
    "bad_version",
  ),

  // §4 stream rules kept by the request stream table.
  streamCase(
    "resp_from_client",
    "A client sends RESP|START: RESP frames flow from server to client only, 400 stream_violation.",
    [{ flags: RESP | START, code: 200, app: ECHO, corr: 201n, payload: emptyStart }],
    "stream_table",
    err("stream_violation", 201n),
  ),
  streamCase(
    "resp_from_client_on_open_stream",
    "REQ|START opens 202, then the client sends RESP|END on 202: 400 stream_violation, and the open " +
      "stream is aborted (the error frame ends corr_id 202).",
    [echoStart(202n, "x"), { flags: RESP | END, code: 200, app: ECHO, corr: 202n }],
    "stream_table",
    err("stream_violation", 202n),
  ),
  streamCase(
    "request_with_code",
    "REQ|START|END with code 200: request frames carry code 0, 400 stream_violation.",
    [{ flags: REQ | START | END, code: 200, app: ECHO, corr: 203n, payload: emptyStart }],
    "stream_table",
    err("stream_violation", 203n),
  ),
  streamCase(
    "duplicate_start",
    "Two REQ|START frames on corr_id 204: the second is a stream_violation and the open stream is aborted.",
    [echoStart(204n, "a"), echoStart(204n, "b")],
    "stream_table",
    err("stream_violation", 204n),
  ),
  streamCase(
    "continuation_without_stream",
    "A REQ continuation (no START, no END) for corr_id 205 that never started: 400 stream_violation.",
    [cont(205n, "orphan")],
    "stream_table",
    err("stream_violation", 205n),
  ),
  streamCase(
    "continuation_after_end",
    "REQ|START|END (echo, delay_ms 5000 so the stream is still open) then REQ|END on the same corr_id: " +
      "the request already ended, 400 stream_violation.",
    [
      {
        flags: REQ | START | END,
        app: ECHO,
        corr: 206n,
        payload: startPayload({ delay_ms: 5000 }, text("done")),
      },
      cont(206n, "late", { flags: REQ | END }),
    ],
    "stream_table",
    err("stream_violation", 206n),
  ),
  streamCase(
    "continuation_changes_tenant",
    "REQ|START for tenant 1, then REQ|END for tenant 2 on the same corr_id: 400 stream_violation.",
    [echoStart(207n, "a", { tenant: 1n }), cont(207n, "b", { flags: REQ | END, tenant: 2n })],
    "stream_table",
    err("stream_violation", 207n),
  ),
  streamCase(
    "continuation_changes_app",
    "REQ|START for echo (0x0101), then REQ|END for mailbox (0x0201) on the same corr_id: 400 stream_violation.",
    [echoStart(208n, "a"), cont(208n, "b", { flags: REQ | END, app: MAILBOX })],
    "stream_table",
    err("stream_violation", 208n),
  ),
  streamCase(
    "too_many_streams",
    "Five REQ|START frames without END with max_inflight 4: the fifth is refused with 429 too_many_streams " +
      "(meta carries retry_after_ms). The first four stay open (echo answers each with RESP|START 200).",
    [211n, 212n, 213n, 214n, 215n].map((c) => echoStart(c, "s")),
    "stream_table",
    err("too_many_streams", 215n),
  ),
  streamCase(
    "too_many_streams_continuations_dropped",
    "The fifth START (225) is refused with 429; its continuation REQ and its REQ|END are dropped silently; " +
      "a further REQ|END on 225 after that END has no stream: 400 stream_violation.",
    [
      ...[221n, 222n, 223n, 224n, 225n].map((c) => echoStart(c, "s")),
      cont(225n, "dropped"),
      cont(225n, "dropped-end", { flags: REQ | END }),
      cont(225n, "after-end", { flags: REQ | END }),
    ],
    "stream_table",
    err("stream_violation", 225n),
    [err("too_many_streams", 225n)],
  ),
  streamCase(
    "too_many_streams_start_end_not_remembered",
    "The fifth frame is a one-frame request REQ|START|END (235), refused with 429. Its request already " +
      "ended, so a later REQ|END on 235 is not dropped: 400 stream_violation.",
    [
      ...[231n, 232n, 233n, 234n].map((c) => echoStart(c, "s")),
      { flags: REQ | START | END, app: ECHO, corr: 235n, payload: emptyStart },
      cont(235n, "late", { flags: REQ | END }),
    ],
    "stream_table",
    err("stream_violation", 235n),
    [err("too_many_streams", 235n)],
  ),

  // §4/§6/§10/§11 stream errors the node decides (the stream table accepts these frames).
  streamCase(
    "comp_on_continuation",
    "REQ|START to echo without COMP, then a REQ|END continuation with COMP: COMP must be on every frame " +
      "of a request or on none, 400 stream_violation.",
    [echoStart(241n, "a"), cont(241n, "b", { flags: REQ | END | COMP })],
    "node",
    err("stream_violation", 241n),
  ),
  streamCase(
    "comp_missing_on_continuation",
    "REQ|START|COMP to echo (a complete zstd frame), then a REQ|END continuation without COMP: 400 " +
      "stream_violation.",
    [
      { flags: REQ | START | COMP, app: ECHO, corr: 260n, payload: startPayload({}, zstdRawFrame(text("a"))) },
      cont(260n, "b", { flags: REQ | END }),
    ],
    "node",
    err("stream_violation", 260n),
  ),
  streamCase(
    "comp_bomb_ratio",
    "COMP body of 16 RLE blocks of 128 KiB (2 MiB from 70 bytes): over the 10:1 ratio cap once past the " +
      "64 KiB grace, 413 ratio_cap. §10.",
    [compStart(261n, zstdRleFrame(17, 128 * 1024, 16))],
    "node",
    err("ratio_cap", 261n),
  ),
  streamCase(
    "comp_bomb_declared_size",
    "COMP body: a single-segment zstd frame declaring a 1 TiB content size, so its window is 1 TiB; the " +
      "node refuses the window before allocating anything, 413 decompress_cap. §10.",
    [compStart(262n, zstdDeclaresTerabyte)],
    "node",
    err("decompress_cap", 262n),
  ),
  streamCase(
    "comp_bomb_tiny_window",
    "COMP body: a frame with the smallest window (1 KiB) and 200 RLE blocks of 1 KiB (200 KiB from 806 " +
      "bytes): 413 ratio_cap. §10.",
    [compStart(263n, zstdRleFrame(10, 1024, 200))],
    "node",
    err("ratio_cap", 263n),
  ),
  streamCase(
    "comp_bomb_declared_small_window",
    "COMP body: a frame declaring 1 TiB in its content size field but a 128 KiB window, then RLE blocks: " +
      "the declared size is ignored and the ratio cap stops it, 413 ratio_cap. §10.",
    [compStart(264n, zstdRleFrame(17, 128 * 1024, 8, { declared: 1n << 40n }))],
    "node",
    err("ratio_cap", 264n),
  ),
  streamCase(
    "comp_bomb_across_frames",
    "A COMP request whose zstd frame spans OAP frames: REQ|START|COMP with the zstd header and 1 RLE " +
      "block of 32 KiB (under the ratio cap's grace, accepted), then REQ|COMP continuations of 8 RLE blocks of " +
      "128 KiB each. The caps are on the whole body: 413 ratio_cap on the stream. §10.",
    [
      { flags: REQ | START | COMP, app: ECHO, corr: 265n, payload: startPayload({}, zstdRleFrame(17, 32 * 1024, 1, { last: false })) },
      cont(265n, "", { flags: REQ | COMP, payload: zstdRleBlocks(128 * 1024, 8, false) }),
      cont(265n, "", { flags: REQ | END | COMP, payload: zstdRleBlocks(128 * 1024, 8, true) }),
    ],
    "node",
    err("ratio_cap", 265n),
  ),
  streamCase(
    "comp_concatenated_bomb",
    "COMP body: 64 small zstd frames back to back, each an RLE block of 64 KiB (4 MiB from 640 bytes): " +
      "the caps count the whole body across frames, 413 ratio_cap. §10.",
    [compStart(266n, Buffer.concat(Array.from({ length: 64 }, () => zstdRleFrame(16, 64 * 1024, 1))))],
    "node",
    err("ratio_cap", 266n),
  ),
  streamCase(
    "comp_garbage_after_frame",
    "COMP body: a valid zstd frame followed by 8 bytes that are not a zstd frame: 400 bad_compression. §10.",
    [compStart(267n, Buffer.concat([zstdRawFrame(text("ok")), text("garbage!")]))],
    "node",
    err("bad_compression", 267n),
  ),
  streamCase(
    "comp_truncated_frame",
    "COMP body: a zstd frame cut off in its last block, and the request ends there: 400 bad_compression. §10.",
    [compStart(268n, zstdRawFrame(text("truncated body")).subarray(0, 15))],
    "node",
    err("bad_compression", 268n),
  ),
  streamCase(
    "comp_not_zstd",
    "COMP body that is not zstd at all: 400 bad_compression. §10.",
    [compStart(269n, text("not really zstd"))],
    "node",
    err("bad_compression", 269n),
  ),
  streamCase(
    "event_to_control",
    "EVENT|START|END to app_proto_id 0: the control service takes no events, 400 unsupported.",
    [{ flags: EVENT | START | END, app: CONTROL, corr: 242n, payload: emptyStart }],
    "node",
    err("unsupported", 242n),
  ),
  streamCase(
    "unknown_app_private_start",
    "REQ|START (no END) for private app_proto_id 0xF123, unknown to the node: 404 unknown_app at the START.",
    [echoStart(243n, "a", { app: 0xf123 })],
    "node",
    err("unknown_app", 243n),
  ),
  streamCase(
    "cap_too_large_4097",
    "REQ|START|END with a 4097-byte capability, one over max_cap_len: 413 cap_too_large.",
    [{ flags: REQ | START | END, app: ECHO, corr: 244n, cap: pattern(4097, 19), payload: emptyStart }],
    "node",
    err("cap_too_large", 244n),
  ),
  streamCase(
    "bad_meta_empty_payload",
    "REQ|START|END whose payload is empty (len 38): no room for meta_len, 400 bad_meta.",
    [badMeta(245n, Buffer.alloc(0))],
    "node",
    err("bad_meta", 245n),
  ),
  streamCase(
    "bad_meta_one_byte_payload",
    "REQ|START|END whose payload is a single byte: meta_len is cut short, 400 bad_meta.",
    [badMeta(246n, Buffer.from([0x00]))],
    "node",
    err("bad_meta", 246n),
  ),
  streamCase(
    "bad_meta_len_past_payload",
    "meta_len 10 but only 3 bytes follow: 400 bad_meta.",
    [badMeta(247n, rawStartPayload(text("{}x"), Buffer.alloc(0), 10))],
    "node",
    err("bad_meta", 247n),
  ),
  streamCase(
    "bad_meta_not_json",
    "meta is not JSON: 400 bad_meta.",
    [badMeta(248n, rawStartPayload(text("not json")))],
    "node",
    err("bad_meta", 248n),
  ),
  streamCase(
    "bad_meta_array",
    "meta is a JSON array, not an object: 400 bad_meta.",
    [badMeta(249n, rawStartPayload(text("[1,2]")))],
    "node",
    err("bad_meta", 249n),
  ),
  streamCase(
    "bad_meta_null",
    "meta is the JSON literal null: 400 bad_meta.",
    [badMeta(250n, rawStartPayload(text("null")))],
    "node",
    err("bad_meta", 250n),
  ),
  streamCase(
    "bad_meta_invalid_utf8",
    'meta is {"a":"<0xff>"}: not valid UTF-8, 400 bad_meta.',
    [badMeta(251n, rawStartPayload(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d])))],
    "node",
    err("bad_meta", 251n),
  ),
  streamCase(
    "bad_meta_hello",
    "HELLO whose meta is a JSON string: 400 bad_meta.",
    [{ flags: REQ | START | END, app: CONTROL, corr: 252n, payload: rawStartPayload(text('"hi"')) }],
    "node",
    err("bad_meta", 252n),
  ),
];

// ---- §10.1 traffic shaping: buckets, padded bursts, HELLO negotiation ----------------------

const bucketCases = [2, 9, 100, 129, 1000, 1234, 4097, 65_537].flatMap((length) =>
  (["padme", "pow2"] as const).map((scheme) => ({
    scheme,
    length,
    bucket: bucketOf(length, scheme),
    burst: burstTarget(length, scheme),
  })),
);

interface BurstSpec {
  name: string;
  description: string;
  scheme: Scheme;
  max_frame: number;
  data: RawFrame[];
}

const echoReply = (corr: bigint, meta: JsonObject, body: Buffer): RawFrame => ({
  flags: RESP | START | END,
  code: 200,
  app: ECHO,
  corr,
  payload: startPayload(meta, body),
});

const burstSpecs: BurstSpec[] = [
  {
    name: "burst_padme_one_reply",
    description:
      "One 71-byte echo reply padded with Padmé: padme(71) = 72 would leave 1 byte, too few for a PAD " +
      "frame, so the burst goes to padme(71 + 55) = 128 with one 57-byte PAD frame.",
    scheme: "padme",
    max_frame: MAX_FRAME,
    data: [echoReply(3n, { op: "ping", seq: 1 }, text("hello, oap"))],
  },
  {
    name: "burst_pow2_two_replies",
    description: "Two echo replies written in one flush, padded together to one power of two.",
    scheme: "pow2",
    max_frame: MAX_FRAME,
    data: [echoReply(4n, {}, pattern(300, 23)), echoReply(5n, { seq: 2 }, pattern(150, 29))],
  },
  {
    name: "burst_padme_exact",
    description: "A 64-byte reply: 64 is a Padmé bucket, so nothing is added.",
    scheme: "padme",
    max_frame: MAX_FRAME,
    data: [echoReply(6n, {}, pattern(24, 31))],
  },
  {
    name: "burst_pow2_split_pad",
    description:
      "Four 2050-byte continuation frames (8200 bytes) padded to 16384 with a max_frame of 4096: the 8184 " +
      "bytes of padding go out as PAD frames of 4096 and 4088 bytes.",
    scheme: "pow2",
    max_frame: 4096,
    data: [0, 1, 2, 3].map((i) => ({
      flags: RESP | (i === 3 ? END : 0),
      code: 200,
      app: ECHO,
      corr: 7n,
      payload: pattern(2050 - HEADER_LEN, 37 + i),
    })),
  },
];

const bursts = burstSpecs.map((b) => {
  const data = Buffer.concat(b.data.map(frameBytes));
  const target = burstTarget(data.length, b.scheme);
  const pads = padFrames(target - data.length, b.max_frame);
  return {
    name: b.name,
    description: b.description,
    scheme: b.scheme,
    max_frame: b.max_frame,
    data_len: data.length,
    padded_len: target,
    pad_frame_lens: pads.map((p) => p.length),
    data_hex: data.toString("hex"),
    hex: Buffer.concat([data, ...pads]).toString("hex"),
  };
});

/** The conformance node's shaping limits: the defaults of shaping.* in the node's config. */
const SHAPING_LIMITS = { max_jitter_ms: 50, max_cover_hz: 20, max_cover_bytes: 16384 };

const helloShaping = [
  {
    name: "shaping_within_limits",
    description: "A request within the node's limits is granted as asked.",
    request: { padding: "padme", jitter_ms: 20, cover_hz: 5, cover_max_bytes: 2048 },
    reply: { padding: "padme", jitter_ms: 20, cover_hz: 5, cover_max_bytes: 2048 },
  },
  {
    name: "shaping_clamped",
    description: "Each number above the node's limit is lowered to it.",
    request: { padding: "pow2", jitter_ms: 500, cover_hz: 100, cover_max_bytes: 1_000_000 },
    reply: { padding: "pow2", jitter_ms: 50, cover_hz: 20, cover_max_bytes: 16384 },
  },
  {
    name: "shaping_defaults",
    description: "Keys left out take their defaults: no padding, no jitter, no cover, cover_max_bytes 4096.",
    request: {},
    reply: { padding: "off", jitter_ms: 0, cover_hz: 0, cover_max_bytes: 4096 },
  },
  {
    name: "shaping_bad_values",
    description:
      "Values of the wrong kind are read as their defaults and clamped: an unknown scheme is off, a " +
      "negative jitter 0, cover_max_bytes at least 55. The HELLO still succeeds.",
    request: { padding: "zstd", jitter_ms: -3, cover_hz: "fast", cover_max_bytes: 10 },
    reply: { padding: "off", jitter_ms: 0, cover_hz: 0, cover_max_bytes: 55 },
  },
  {
    name: "shaping_not_asked",
    description: "A HELLO without shaping gets a reply without it, and nothing is shaped.",
    request: null,
    reply: null,
  },
];

// ---- output ------------------------------------------------------------------------------

function describeFrame(f: RawFrame, meta: JsonObject | undefined, body: Buffer | undefined) {
  const bytes = frameBytes(f);
  const cap = f.cap ?? Buffer.alloc(0);
  const payload = f.payload ?? Buffer.alloc(0);
  const isStart = (f.flags & START) !== 0;
  if (isStart && (meta === undefined || body === undefined)) throw new Error("START frame without meta/body");
  if (isStart && meta && body) {
    // Self-check: the payload really is meta_len | meta | body.
    const expected = startPayload(meta, body);
    if (!expected.equals(payload)) throw new Error("payload does not match meta/body");
  }
  return {
    len: bytes.length,
    ver: 1,
    flags: f.flags,
    flag_names: FLAG_NAMES.filter(([, bit]) => (f.flags & bit) !== 0).map(([name]) => name),
    code: f.code ?? 0,
    app_proto_id: f.app,
    tenant_id: tenantHex(f.tenant ?? 0n),
    cap_len: cap.length,
    corr_id: f.corr.toString(),
    cap_hex: cap.toString("hex"),
    payload_hex: payload.toString("hex"),
    meta: isStart ? (meta as JsonObject) : null,
    body_hex: isStart ? (body as Buffer).toString("hex") : null,
  };
}

const names = new Set<string>();
function uniqueName(name: string): string {
  if (names.has(name)) throw new Error(`duplicate vector name ${name}`);
  names.add(name);
  return name;
}

const out = {
  spec: "specs/oap-1.md",
  description:
    "OAP/1 test vectors (specs/oap-1.md §13). Generated by specs/vectors/generate.ts; do not edit by hand.",
  limits: LIMITS,
  valid: valid.map((v) => {
    const bytes = frameBytes(v.frame);
    if (bytes.length > MAX_FRAME) throw new Error(`${v.name} is larger than max_frame`);
    return {
      name: uniqueName(v.name),
      description: v.description,
      hex: bytes.toString("hex"),
      frame: describeFrame(v.frame, v.meta, v.body),
      socket: v.socket,
    };
  }),
  invalid: invalid.map((v) => ({
    name: uniqueName(v.name),
    description: v.description,
    hex: Buffer.concat(v.frames.map(frameBytes)).toString("hex"),
    level: v.level,
    enforced_by: v.enforced_by,
    expect: v.expect,
  })),
  shaping: {
    pad_frame_min: PAD_FRAME_MIN,
    buckets: bucketCases,
    bursts: bursts.map((b) => ({ ...b, name: uniqueName(b.name) })),
    node_limits: SHAPING_LIMITS,
    hello: helloShaping.map((h) => ({ ...h, name: uniqueName(h.name) })),
  },
};

const target = join(dirname(fileURLToPath(import.meta.url)), "oap-1.json");
writeFileSync(target, `${JSON.stringify(out, null, 2)}\n`);
process.stderr.write(`wrote ${target}: ${out.valid.length} valid, ${out.invalid.length} invalid vectors\n`);
