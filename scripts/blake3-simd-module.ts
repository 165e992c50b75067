// The pure part of scripts/build-blake3-simd.ts: emits, byte by byte, the WebAssembly module
// that hashes full BLAKE3 chunks four at a time with 128-bit SIMD (one chunk per i32x4 lane),
// and renders the TypeScript file that carries it (packages/sdk/src/verified/simd/
// blake3-x4-wasm.ts). No toolchain and no I/O: the output is a pure function of this file, so
// the test rebuilds it and compares with the committed bytes.
//
// The module exports its memory ("memory", 2 pages: the loader puts up to 64 chunks, a 64 KiB
// group, at 0 and reads the chaining values at OUT_OFFSET) and one function, `hash` (see
// hashFunction), which compresses 4 lanes at a time: 4 chunks of 16 blocks, or 4 parents of
// one block each, so the parent levels of a full group run in SIMD too. A quad's lanes past
// the caller's last input hash whatever bytes are there; the caller ignores their outputs.
//
// Per block the 4 lanes' 16 message words are loaded 4 at a time and transposed (4×4, by
// shuffles), so message local m_i holds word i of every lane. The 7 rounds are a loop over the
// round-1 G order, with the message locals permuted between rounds (two 8-cycles): the body
// stays small enough (under 4 KiB in all) for a synchronous compile on a browser's main
// thread. Rotations by 16 and 8 are byte swizzles, by 12 and 7 shifts. Each G mix adds the
// message word to `a` before `b` (see g): one add less on the dependency chain took the
// kernel from ≈1.50 to ≈1.70 GB/s on the dev machine. Tried there and not kept: eight lanes
// (two interleaved states; ≈4% more, for a 6 KiB module), the message in memory (per-round
// copies, or one copy read through an offset table) instead of permuted locals (no gain).
import { G_STATE, MSG_PERMUTATION, messageSchedule, ROUNDS } from "./blake3-rounds.js";

/** Where the generated TypeScript file is, from the repository root. */
export const BLAKE3_SIMD_FILE = "packages/sdk/src/verified/simd/blake3-x4-wasm.ts";

/** Byte offset of the output CVs in the module's memory (the input starts at 0). */
export const OUT_OFFSET = 65536;

const IV = [
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
] as const;

// Opcodes (the SIMD ones follow the 0xfd prefix, as a LEB128 u32).
const OP = {
  block: 0x02,
  loop: 0x03,
  br: 0x0c,
  brIf: 0x0d,
  end: 0x0b,
  localGet: 0x20,
  localSet: 0x21,
  localTee: 0x22,
  i32Const: 0x41,
  i32Eqz: 0x45,
  i32Eq: 0x46,
  i32Ne: 0x47,
  i32Add: 0x6a,
  i32Sub: 0x6b,
  i32Mul: 0x6c,
  select: 0x1b,
  i32Shl: 0x74,
  i32Or: 0x72,
  i64Add: 0x7c,
  i64Or: 0x84,
  i64Shl: 0x86,
  i64ShrU: 0x88,
  i32WrapI64: 0xa7,
  i64ExtendI32U: 0xad,
  i64Const: 0x42,
} as const;
const SIMD = {
  load: 0x00,
  store: 0x0b,
  const: 0x0c,
  shuffle: 0x0d,
  swizzle: 0x0e,
  i32x4Splat: 0x11,
  i32x4LtU: 0x3a,
  and: 0x4e,
  or: 0x50,
  xor: 0x51,
  i32x4Shl: 0xab,
  i32x4ShrU: 0xad,
  i32x4Add: 0xae,
  i32x4Sub: 0xb1,
} as const;
const V128 = 0x7b;
const I32 = 0x7f;
const I64 = 0x7e;
const VOID_BLOCK = 0x40;

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n = Math.floor(n / 128);
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  let v = BigInt(n);
  for (;;) {
    const byte = Number(v & 0x7fn);
    v >>= 7n;
    if ((v === 0n && (byte & 0x40) === 0) || (v === -1n && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

const utf8 = (s: string): number[] => [...new TextEncoder().encode(s)];
const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];

/**
 * Build options, for experiments (on the dev machine neither was faster than the default);
 * the committed module uses the defaults.
 */
export interface SimdOptions {
  /** Unroll the 7 rounds (no message permutation, but about 10 KiB of code). */
  unroll?: boolean;
  /** Rotate by 16 and 8 with shifts instead of byte swizzles. */
  rotShift?: boolean;
}

/** The function body's instructions, with named locals. */
class Code {
  readonly bytes: number[] = [];
  readonly #locals = new Map<string, number>();
  readonly #decls: { type: number; count: number }[] = [];
  #next: number;

  constructor(
    readonly opts: SimdOptions,
    params: string[],
  ) {
    for (const [i, p] of params.entries()) this.#locals.set(p, i);
    this.#next = params.length;
  }

  declare(type: number, names: string[]): void {
    for (const name of names) this.#locals.set(name, this.#next++);
    this.#decls.push({ type, count: names.length });
  }

  #index(name: string): number {
    const i = this.#locals.get(name);
    if (i === undefined) throw new Error(`unknown local ${name}`);
    return i;
  }

  op(...bytes: number[]): this {
    this.bytes.push(...bytes);
    return this;
  }
  simd(op: number, ...imm: number[]): this {
    return this.op(0xfd, ...uleb(op), ...imm);
  }
  get(name: string): this {
    return this.op(OP.localGet, ...uleb(this.#index(name)));
  }
  set(name: string): this {
    return this.op(OP.localSet, ...uleb(this.#index(name)));
  }
  tee(name: string): this {
    return this.op(OP.localTee, ...uleb(this.#index(name)));
  }
  i32(n: number): this {
    return this.op(OP.i32Const, ...sleb(n | 0));
  }
  /** v128.load at `offset` from the i32 address on the stack (alignment hint 1: any address). */
  load(offset: number): this {
    return this.simd(SIMD.load, 0, ...uleb(offset));
  }
  store(offset: number): this {
    return this.simd(SIMD.store, 0, ...uleb(offset));
  }
  shuffle(lanes: number[]): this {
    if (lanes.length !== 16) throw new Error("a shuffle has 16 lanes");
    return this.simd(SIMD.shuffle, ...lanes);
  }
  /** i32x4.splat of a constant. */
  splat(n: number): this {
    return this.i32(n).simd(SIMD.i32x4Splat);
  }

  /** The function entry: local declarations, then the body and its `end`. */
  encode(): number[] {
    const decls = vec(this.#decls.map((d) => [...uleb(d.count), d.type]));
    const body = [...decls, ...this.bytes, OP.end];
    return [...uleb(body.length), ...body];
  }
}

/** Byte lanes of an i32x4 shuffle taking i32 lane `lanes[k]` (0..7 over both operands) into lane k. */
const wordLanes = (lanes: number[]): number[] =>
  lanes.flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3]);
/** Byte lanes rotating every i32 lane right by `bits` (a multiple of 8). */
const rotrLanes = (bits: number): number[] =>
  [0, 1, 2, 3].flatMap((k) => [0, 1, 2, 3].map((b) => 4 * k + ((b + bits / 8) % 4)));

/**
 * Transposes the 4×4 words in locals `rows` (row r = lane r's 4 consecutive words) into
 * `cols` (col c = word c of every lane), through the temporaries t0..t3.
 */
function transpose(c: Code, rows: string[], cols: string[]): void {
  const [r0, r1, r2, r3] = rows as [string, string, string, string];
  const lo = wordLanes([0, 4, 1, 5]);
  const hi = wordLanes([2, 6, 3, 7]);
  c.get(r0).get(r1).shuffle(lo).set("t0"); // a0 b0 a1 b1
  c.get(r0).get(r1).shuffle(hi).set("t1"); // a2 b2 a3 b3
  c.get(r2).get(r3).shuffle(lo).set("t2"); // c0 d0 c1 d1
  c.get(r2).get(r3).shuffle(hi).set("t3"); // c2 d2 c3 d3
  const lo64 = wordLanes([0, 1, 4, 5]);
  const hi64 = wordLanes([2, 3, 6, 7]);
  c.get("t0")
    .get("t2")
    .shuffle(lo64)
    .set(cols[0] as string);
  c.get("t0")
    .get("t2")
    .shuffle(hi64)
    .set(cols[1] as string);
  c.get("t1")
    .get("t3")
    .shuffle(lo64)
    .set(cols[2] as string);
  c.get("t1")
    .get("t3")
    .shuffle(hi64)
    .set(cols[3] as string);
}

/** `v = rotr(v, bits)` for the value on the stack, stored into local `v`. */
function rotr(c: Code, v: string, bits: number): void {
  if (bits % 8 === 0 && !c.opts.rotShift) {
    // A swizzle by a constant: one pshufb on x64 (V8 turns the equivalent i8x16.shuffle of
    // a rotation by 16 into two word shuffles, about 10% slower in all).
    c.tee(v)
      .simd(SIMD.const, ...rotrLanes(bits))
      .simd(SIMD.swizzle)
      .set(v);
    return;
  }
  c.tee(v)
    .i32(bits)
    .simd(SIMD.i32x4ShrU)
    .get(v)
    .i32(32 - bits)
    .simd(SIMD.i32x4Shl)
    .simd(SIMD.or)
    .set(v);
}

/** One G mix of state locals `v{a,b,c,d}` with message locals `m{mx,my}`. */
function g(c: Code, a: number, b: number, cc: number, d: number, mx: number, my: number): void {
  const [va, vb, vc, vd] = [`v${a}`, `v${b}`, `v${cc}`, `v${d}`];
  // a + m + b as (a + m) + b: b is the input ready last (the previous mix ends with it, a is
  // ready well before), so one add less on the dependency chain (12-14% faster).
  c.get(va).get(`m${mx}`).simd(SIMD.i32x4Add).get(vb).simd(SIMD.i32x4Add).tee(va);
  c.get(vd).simd(SIMD.xor);
  rotr(c, vd, 16);
  c.get(vc).get(vd).simd(SIMD.i32x4Add).tee(vc);
  c.get(vb).simd(SIMD.xor);
  rotr(c, vb, 12);
  c.get(va).get(`m${my}`).simd(SIMD.i32x4Add).get(vb).simd(SIMD.i32x4Add).tee(va);
  c.get(vd).simd(SIMD.xor);
  rotr(c, vd, 8);
  c.get(vc).get(vd).simd(SIMD.i32x4Add).tee(vc);
  c.get(vb).simd(SIMD.xor);
  rotr(c, vb, 7);
}

/** `m_i = m_{MSG_PERMUTATION[i]}` for all i at once, cycle by cycle through `mt`. */
function permuteMessage(c: Code): void {
  const done = new Set<number>();
  for (let start = 0; start < 16; start++) {
    if (done.has(start) || MSG_PERMUTATION[start] === start) continue;
    c.get(`m${start}`).set("mt");
    let i = start;
    for (;;) {
      done.add(i);
      const from = MSG_PERMUTATION[i] as number;
      if (from === start) {
        c.get("mt").set(`m${i}`);
        break;
      }
      c.get(`m${from}`).set(`m${i}`);
      i = from;
    }
  }
}

/**
 * `hash(quads, ctrLo, ctrHi, input, stride, blocks, parent, output)`: for q in [0, quads),
 * compresses 4 lanes, lane l's message being `blocks` 64-byte blocks at
 * `input + (4q + l)·stride`, and writes lane l's 8-word output at `output + 128q + 32l`.
 * Chunks (parent 0): 16 blocks, stride 1024, chunk counter (ctrHi:ctrLo) + 4q + l, flags
 * CHUNK_START on the first block and CHUNK_END on the last. Parents (parent 1): 1 block
 * (two child CVs), stride 64, counter 0, flags PARENT; output may equal input (a quad writes
 * 128 bytes below or at the 256 it has read).
 */
function hashFunction(opts: SimdOptions): Code {
  const c = new Code(opts, ["quads", "ctrLo", "ctrHi", "input", "stride", "blocks", "parent", "output"]);
  const v = (p: string, n: number) => Array.from({ length: n }, (_, i) => `${p}${i}`);
  c.declare(I32, ["q", "inp", "blk", "round", "lo", "hi", "p1", "p2", "p3"]);
  c.declare(I64, ["ctr"]);
  c.declare(V128, [
    ...v("v", 16),
    ...v("m", 16),
    ...v("c", 8),
    ...v("r", 4),
    ...v("t", 4),
    "mt",
    "clo",
    "chi",
  ]);
  // Nothing to do for 0 quads.
  c.op(OP.block, VOID_BLOCK);
  c.get("quads").op(OP.i32Eqz, OP.brIf, 0);
  c.op(OP.loop, VOID_BLOCK); // quad loop
  // The 64-bit counter of lane 0: (ctrHi:ctrLo) + 4q; lane k adds k, carrying into the high
  // word. Parents: all zero.
  c.get("ctrHi")
    .op(OP.i64ExtendI32U)
    .op(OP.i64Const, ...sleb(32))
    .op(OP.i64Shl);
  c.get("ctrLo").op(OP.i64ExtendI32U).op(OP.i64Or);
  c.get("q").i32(2).op(OP.i32Shl).op(OP.i64ExtendI32U).op(OP.i64Add).tee("ctr");
  c.op(OP.i32WrapI64).set("lo");
  c.get("ctr")
    .op(OP.i64Const, ...sleb(32))
    .op(OP.i64ShrU)
    .op(OP.i32WrapI64)
    .set("hi");
  c.get("lo")
    .simd(SIMD.i32x4Splat)
    .simd(SIMD.const, ...[0, 1, 2, 3].flatMap((k) => [k, 0, 0, 0]));
  c.simd(SIMD.i32x4Add).tee("clo");
  c.get("lo").simd(SIMD.i32x4Splat).simd(SIMD.i32x4LtU); // all ones where lane k wrapped
  c.set("chi");
  c.get("hi").simd(SIMD.i32x4Splat).get("chi").simd(SIMD.i32x4Sub).set("chi");
  c.get("parent").i32(1).op(OP.i32Sub).simd(SIMD.i32x4Splat).tee("mt"); // 0 for parents, else ~0
  c.get("clo").simd(SIMD.and).set("clo");
  c.get("mt").get("chi").simd(SIMD.and).set("chi");
  // Chaining values start at the IV.
  IV.forEach((w, i) => {
    c.splat(w).set(`c${i}`);
  });
  // Lane 0's input: input + 4q·stride; lanes 1..3 follow at stride.
  c.get("input").get("q").get("stride").op(OP.i32Mul).i32(2).op(OP.i32Shl).op(OP.i32Add).set("inp");
  c.i32(0).set("blk");
  c.op(OP.loop, VOID_BLOCK); // block loop
  c.get("inp").get("stride").op(OP.i32Add).tee("p1");
  c.get("stride").op(OP.i32Add).tee("p2");
  c.get("stride").op(OP.i32Add).set("p3");
  // Message: word i of each of the 4 lanes, transposed 4 words at a time.
  for (let w = 0; w < 4; w++) {
    ["inp", "p1", "p2", "p3"].forEach((addr, lane) => {
      c.get(addr)
        .load(w * 16)
        .set(`r${lane}`);
    });
    transpose(
      c,
      v("r", 4),
      [0, 1, 2, 3].map((k) => `m${4 * w + k}`),
    );
  }
  for (let i = 0; i < 8; i++) c.get(`c${i}`).set(`v${i}`);
  for (let i = 0; i < 4; i++) c.splat(IV[i] as number).set(`v${8 + i}`);
  c.get("clo").set("v12");
  c.get("chi").set("v13");
  c.splat(64).set("v14");
  // Flags: PARENT for parents; else CHUNK_START (1) on block 0 | CHUNK_END (2) on the last.
  c.i32(4);
  c.get("blk").op(OP.i32Eqz);
  c.get("blk").i32(1).op(OP.i32Add).get("blocks").op(OP.i32Eq).i32(1).op(OP.i32Shl).op(OP.i32Or);
  c.get("parent").op(OP.select);
  c.simd(SIMD.i32x4Splat).set("v15");
  if (c.opts.unroll) {
    for (const order of messageSchedule()) {
      G_STATE.forEach(([a, b, cc, d], i) => {
        g(c, a, b, cc, d, order[2 * i] as number, order[2 * i + 1] as number);
      });
    }
  } else {
    c.i32(0).set("round");
    c.op(OP.block, VOID_BLOCK).op(OP.loop, VOID_BLOCK); // round loop
    G_STATE.forEach(([a, b, cc, d], i) => {
      g(c, a, b, cc, d, 2 * i, 2 * i + 1);
    });
    // After the last round, leave without permuting the message.
    c.get("round").i32(1).op(OP.i32Add).tee("round");
    c.i32(ROUNDS).op(OP.i32Eq).op(OP.brIf, 1);
    permuteMessage(c);
    c.op(OP.br, 0);
    c.op(OP.end, OP.end);
  }
  for (let i = 0; i < 8; i++)
    c.get(`v${i}`)
      .get(`v${i + 8}`)
      .simd(SIMD.xor)
      .set(`c${i}`);
  c.get("inp").i32(64).op(OP.i32Add).set("inp");
  c.get("blk").i32(1).op(OP.i32Add).tee("blk");
  c.get("blocks").op(OP.i32Ne).op(OP.brIf, 0);
  c.op(OP.end);
  // Outputs: transpose back (c0..c3 → words 0..3 of each lane, c4..c7 → words 4..7), store.
  c.get("output").get("q").i32(7).op(OP.i32Shl).op(OP.i32Add).set("inp");
  for (let half = 0; half < 2; half++) {
    transpose(
      c,
      [0, 1, 2, 3].map((k) => `c${4 * half + k}`),
      v("r", 4),
    );
    for (let lane = 0; lane < 4; lane++) {
      c.get("inp")
        .get(`r${lane}`)
        .store(lane * 32 + half * 16);
    }
  }
  c.get("q").i32(1).op(OP.i32Add).tee("q");
  c.get("quads").op(OP.i32Ne).op(OP.brIf, 0);
  c.op(OP.end);
  c.op(OP.end);
  return c;
}

/** The module's bytes. */
export function buildBlake3SimdModule(opts: SimdOptions = {}): Uint8Array {
  const typeSec = section(1, vec([[0x60, ...vec(Array.from({ length: 8 }, () => [I32])), ...vec([])]]));
  const funcSec = section(3, vec([uleb(0)]));
  const memSec = section(5, vec([[0x00, ...uleb(2)]]));
  const exportSec = section(
    7,
    vec([
      [...vec(utf8("memory").map((b) => [b])), 0x02, ...uleb(0)],
      [...vec(utf8("hash").map((b) => [b])), 0x00, ...uleb(0)],
    ]),
  );
  const codeSec = section(10, vec([hashFunction(opts).encode()]));
  return Uint8Array.from([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...typeSec,
    ...funcSec,
    ...memSec,
    ...exportSec,
    ...codeSec,
  ]);
}

/** The generated TypeScript file carrying `bytes` (base64, in lines of 100 characters). */
export function renderBlake3SimdFile(bytes: Uint8Array): string {
  const b64 = Buffer.from(bytes).toString("base64");
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 100) lines.push(b64.slice(i, i + 100));
  return [
    "// Generated by scripts/build-blake3-simd.ts from scripts/blake3-simd-module.ts: do not edit.",
    "// Rebuild with `node --import tsx scripts/build-blake3-simd.ts` (`--check` verifies it).",
    "",
    `/** The BLAKE3 4-lane SIMD module (${bytes.length} bytes), base64. */`,
    "export const BLAKE3_X4_WASM_BASE64 =",
    lines.map((l, i) => `  "${l}"${i === lines.length - 1 ? ";" : " +"}`).join("\n"),
    "",
  ].join("\n");
}
