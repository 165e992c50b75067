import { readFileSync } from "node:fs";
import { CapError, decodeIdentifier, decodeV2, mintToken, parseCaveat } from "@omnigate/caps";
import {
  BoundedInflater,
  compressBody,
  decodeFrame,
  decodeStartPayload,
  encodeFrame,
  FrameDecoder,
  OapError,
} from "@omnigate/oap";

/**
 * A fuzz target: `run` feeds one input to the code under test and throws only when something
 * is wrong — an exception that is not the component's own refusal (OapError / CapError), or a
 * broken invariant. Every refusal of bad input is a normal outcome.
 */
export interface FuzzTarget {
  name: string;
  /** Source files whose V8 block coverage guides the fuzzer (URL substrings). */
  coverage: string[];
  seeds(): Uint8Array[];
  run(input: Uint8Array): void;
}

export class InvariantError extends Error {
  override readonly name = "InvariantError";
}

function check(ok: boolean, message: string): void {
  if (!ok) throw new InvariantError(message);
}

/** Runs `fn`, letting the component's own refusals through as a normal outcome. */
function refusalsAllowed(fn: () => void, allowed: new (...args: never[]) => Error): void {
  try {
    fn();
  } catch (err) {
    if (err instanceof allowed) return;
    throw err;
  }
}

interface VectorFile {
  valid: Array<{ hex: string }>;
  invalid: Array<{ hex: string }>;
}

/** Every frame of specs/vectors/oap-1.json: the seeds of the frame-level targets. */
function vectorBytes(): Uint8Array[] {
  const file = JSON.parse(
    readFileSync(new URL("../../specs/vectors/oap-1.json", import.meta.url), "utf8"),
  ) as VectorFile;
  return [...file.valid, ...file.invalid].map((v) => Buffer.from(v.hex, "hex"));
}

const SMALL_FRAME = 64 * 1024;

const frame: FuzzTarget = {
  name: "frame",
  coverage: ["packages/oap/src/"],
  seeds: vectorBytes,
  run(input) {
    // One-shot decode: a decoded frame re-encodes to exactly the bytes it came from.
    refusalsAllowed(() => {
      const f = decodeFrame(input, { maxFrame: SMALL_FRAME });
      const again = encodeFrame(f);
      check(
        Buffer.from(again).equals(Buffer.from(input.subarray(0, f.len))),
        "re-encoded frame differs from its bytes",
      );
    }, OapError);
    // Incremental decode at a split point taken from the input: same frames as whole.
    const cut = input.byteLength > 0 ? (input[0] as number) % (input.byteLength + 1) : 0;
    const whole: number[] = [];
    const split: number[] = [];
    refusalsAllowed(() => {
      for (const f of new FrameDecoder({ maxFrame: SMALL_FRAME }).push(input)) whole.push(f.len);
    }, OapError);
    refusalsAllowed(() => {
      const d = new FrameDecoder({ maxFrame: SMALL_FRAME });
      for (const f of d.push(input.subarray(0, cut))) split.push(f.len);
      for (const f of d.push(input.subarray(cut))) split.push(f.len);
      check(d.buffered <= input.byteLength, "decoder buffers more than it was given");
    }, OapError);
    check(whole.join() === split.join(), "split decoding yields other frames than whole decoding");
  },
};

const meta: FuzzTarget = {
  name: "meta",
  coverage: ["packages/oap/src/payload", "packages/oap/src/errors"],
  seeds: () => [
    ...vectorBytes().map((b) => b.subarray(Math.min(38, b.byteLength))),
    Buffer.from([0, 2, 0x7b, 0x7d]),
    Buffer.from([0, 0]),
  ],
  run(input) {
    refusalsAllowed(() => {
      const { meta: m, body } = decodeStartPayload(input);
      check(typeof m === "object" && m !== null && !Array.isArray(m), "meta is not an object");
      check(body.byteLength <= input.byteLength, "body longer than the payload");
    }, OapError);
  },
};

const caps: FuzzTarget = {
  name: "caps",
  coverage: ["packages/caps/src/"],
  seeds: () => {
    const rootKey = Buffer.alloc(32, 7);
    const token = mintToken({
      rootKey,
      keyId: "k1",
      tenant: 42n,
      apps: [0x0101, 0x1001],
      ops: ["send", "get"],
      topics: "chat/",
      expiresAt: 2_000_000_000,
      notBefore: 1_000,
      rps: 10,
      bytes: 4096,
      tokenId: "fuzz-seed",
      location: "omnigate",
    });
    return [
      token,
      mintToken({ rootKey, keyId: "k2", tenant: 0n, tokenId: "t" }),
      Buffer.from("ops = send,get"),
    ];
  },
  run(input) {
    refusalsAllowed(() => {
      const m = decodeV2(input);
      check(m.caveats.length <= 32, "more caveats than MAX_CAVEATS");
      refusalsAllowed(() => void decodeIdentifier(m.identifier), CapError);
      for (const c of m.caveats)
        refusalsAllowed(() => void parseCaveat(Buffer.from(c.id).toString("utf8")), CapError);
    }, CapError);
    // The caveat grammar straight from the bytes, too.
    refusalsAllowed(() => void parseCaveat(Buffer.from(input).toString("latin1")), CapError);
  },
};

/** Small caps so the fuzzer reaches them with small inputs. */
const ZSTD_LIMITS = { maxOutput: 256 * 1024, maxRatio: 10, ratioGraceBytes: 16 * 1024 };

const zstd: FuzzTarget = {
  name: "zstd",
  coverage: ["packages/oap/src/zstd-guard"],
  seeds: () => [
    compressBody(Buffer.from("hello, zstd")),
    compressBody(Buffer.from("abcdefgh".repeat(4000))),
    compressBody(Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 31) & 0xff)), 19),
  ],
  run(input) {
    const inflater = new BoundedInflater(ZSTD_LIMITS);
    const cut = input.byteLength > 0 ? (input[input.byteLength - 1] as number) % (input.byteLength + 1) : 0;
    let kept = 0;
    refusalsAllowed(() => {
      for (const piece of inflater.push(input.subarray(0, cut))) kept += piece.byteLength;
      for (const piece of inflater.push(input.subarray(cut))) kept += piece.byteLength;
      inflater.finish();
    }, OapError);
    check(kept <= ZSTD_LIMITS.maxOutput, `kept ${kept} bytes, over the ${ZSTD_LIMITS.maxOutput}-byte cap`);
    check(inflater.decompressedBytes <= ZSTD_LIMITS.maxOutput, "counted output over the cap");
  },
};

export const FUZZ_TARGETS: Record<string, FuzzTarget> = { frame, meta, caps, zstd };
