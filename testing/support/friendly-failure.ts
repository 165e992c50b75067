import { expect } from "vitest";

/**
 * How a command-line tool fails on an expected error: exit code ≠ 0, one or two lines on
 * stderr (what failed and why, then what to do), no stack frame, and each pattern present.
 */
export function expectFriendlyFailure(
  result: { code: number | null; stderr: string },
  ...patterns: RegExp[]
): void {
  expect(result.code, result.stderr).not.toBe(0);
  const lines = result.stderr.trimEnd().split("\n");
  expect(lines.length, result.stderr).toBeGreaterThanOrEqual(1);
  expect(lines.length, result.stderr).toBeLessThanOrEqual(2);
  expect(result.stderr).not.toMatch(/^\s+at /m);
  for (const pattern of patterns) expect(result.stderr).toMatch(pattern);
}
