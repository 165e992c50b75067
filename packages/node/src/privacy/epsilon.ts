/**
 * Privacy parameters as exact rationals: ε is spent and summed without rounding, so a budget
 * is refused at exactly the release that would pass it.
 */

/** A non-negative rational num/den in lowest terms. */
export interface Epsilon {
  readonly num: bigint;
  readonly den: bigint;
}

const DECIMAL = /^(\d{1,9})(?:\.(\d{1,9}))?$/;

/** Parses a decimal like "0.1" or "2" exactly (up to 9 digits each side). */
export function parseEpsilon(text: string): Epsilon {
  const m = DECIMAL.exec(text.trim());
  if (!m) throw new RangeError(`ε must be a decimal number like 0.1, not ${JSON.stringify(text)}`);
  const fraction = m[2] ?? "";
  return reduce(BigInt(`${m[1]}${fraction}`), 10n ** BigInt(fraction.length));
}

export function addEpsilon(a: Epsilon, b: Epsilon): Epsilon {
  return reduce(a.num * b.den + b.num * a.den, a.den * b.den);
}

/** Negative, zero or positive as a < b, a = b, a > b. */
export function compareEpsilon(a: Epsilon, b: Epsilon): number {
  const d = a.num * b.den - b.num * a.den;
  return d < 0n ? -1 : d > 0n ? 1 : 0;
}

export function formatEpsilon(e: Epsilon): string {
  return e.den === 1n ? `${e.num}` : `${e.num}/${e.den}`;
}

/** `a − b`, or zero when b ≥ a (what is left of a budget). */
export function remainingEpsilon(a: Epsilon, b: Epsilon): Epsilon {
  return compareEpsilon(a, b) <= 0 ? ZERO_EPSILON : reduce(a.num * b.den - b.num * a.den, a.den * b.den);
}

/** As a decimal ("0.5", "9.25") when it has one (sums of parsed decimals do), else as num/den. */
export function formatEpsilonDecimal(e: Epsilon): string {
  let digits = 0;
  let scale = 1n;
  while ((scale * e.num) % e.den !== 0n) {
    if (++digits > 40) return formatEpsilon(e);
    scale *= 10n;
  }
  const scaled = (scale * e.num) / e.den;
  const whole = scaled / scale;
  if (digits === 0) return `${whole}`;
  const fraction = `${scaled % scale}`.padStart(digits, "0");
  return `${whole}.${fraction}`;
}

export const ZERO_EPSILON: Epsilon = { num: 0n, den: 1n };

function reduce(num: bigint, den: bigint): Epsilon {
  const g = gcd(num, den);
  return { num: num / g, den: den / g };
}

function gcd(a: bigint, b: bigint): bigint {
  let [x, y] = [a < 0n ? -a : a, b];
  while (y !== 0n) [x, y] = [y, x % y];
  return x === 0n ? 1n : x;
}
