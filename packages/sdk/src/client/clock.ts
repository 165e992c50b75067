/**
 * The monotonic clock deadlines are measured on. `performance` is a global in Node and in
 * browsers; it is read once here, as an import of node:perf_hooks would be, so the browser
 * build needs no Node module for it.
 */
export const { performance } = globalThis;

/** A timer handle: an object in Node, a number in a browser. */
export type TimerHandle = ReturnType<typeof setTimeout>;

/** Lets the process exit while `timer` is pending (Node); a browser's timers keep nothing alive. */
export function unrefTimer(timer: TimerHandle): void {
  (timer as { unref?: () => void }).unref?.();
}
