import { OapError } from "@omnigate/oap";

/** Bytes [start, end) of an object. */
export interface ByteSpan {
  start: number;
  end: number;
}

const FORM = /^(\d*)-(\d*)$/;

/**
 * Resolves a single byte range in the forms of HTTP `Range` (RFC 9110 §14.1.2) against an
 * object of `size` bytes: `start-end` (inclusive, end clamped to the object), `start-` (to the
 * end) and `-suffix` (the last `suffix` bytes). Malformed → 400 bad_meta; a range that selects
 * no byte of the object → 416 range_not_satisfiable.
 */
export function resolveRange(spec: string, size: number): ByteSpan {
  const match = FORM.exec(spec);
  const [first, last] = [match?.[1] ?? "", match?.[2] ?? ""];
  if (!match || (first === "" && last === "")) {
    throw new OapError(
      "bad_meta",
      `meta "range" must be "start-end", "start-" or "-suffix" (got "${clip(spec)}")`,
    );
  }
  if (first === "") {
    const suffix = toNumber(last);
    if (suffix === 0 || size === 0) throw unsatisfiable(spec, size);
    return { start: Math.max(0, size - suffix), end: size };
  }
  const start = toNumber(first);
  const end = last === "" ? size : toNumber(last) + 1;
  if (last !== "" && end <= start) {
    throw new OapError("bad_meta", `meta "range" ends before it starts (got "${clip(spec)}")`);
  }
  if (start >= size) throw unsatisfiable(spec, size);
  return { start, end: Math.min(end, size) };
}

/** The served span as `start-end` (inclusive), as the reply's meta "range" says it. */
export function formatSpan(span: ByteSpan): string {
  return `${span.start}-${span.end - 1}`;
}

function toNumber(digits: string): number {
  const value = Number(digits);
  if (!Number.isSafeInteger(value)) throw new OapError("bad_meta", `meta "range" has a number out of bounds`);
  return value;
}

function unsatisfiable(spec: string, size: number): OapError {
  return new OapError(
    "range_not_satisfiable",
    `range "${clip(spec)}" selects no byte of an object of ${size} bytes`,
  );
}

function clip(spec: string): string {
  return spec.length > 40 ? `${spec.slice(0, 40)}…` : spec;
}
