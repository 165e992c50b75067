/**
 * Delay before restart number `attempt` (1 for the first): exponential from `initialMs`,
 * capped at `maxMs`, with "equal jitter" — somewhere in the upper half of the step — so
 * services that crashed together do not all come back in the same instant.
 */
export function restartDelay(
  attempt: number,
  initialMs: number,
  maxMs: number,
  random = Math.random,
): number {
  const step = Math.min(maxMs, initialMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(step / 2 + random() * (step / 2));
}
