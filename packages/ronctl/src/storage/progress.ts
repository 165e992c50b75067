import { SingleBar } from "cli-progress";

/** Transfers at least this large get a progress bar (on a terminal). */
const PROGRESS_FROM_BYTES = 4 * 1024 * 1024;

export interface Progress {
  update(bytes: number): void;
  stop(): void;
}

/** A progress bar on stderr for a large transfer to or from a terminal; otherwise nothing. */
export function progressFor(totalBytes: number | undefined, enabled: boolean): Progress {
  if (!enabled || !process.stderr.isTTY || totalBytes === undefined || totalBytes < PROGRESS_FROM_BYTES) {
    return { update() {}, stop() {} };
  }
  const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
  const bar = new SingleBar({
    stream: process.stderr,
    format: " {bar} {percentage}% | {done}/{total_mib} MiB | {speed} MiB/s | ETA {eta}s",
    hideCursor: true,
    clearOnComplete: true,
  });
  const started = Date.now();
  bar.start(totalBytes, 0, { done: "0.0", total_mib: mib(totalBytes), speed: "0.0" });
  return {
    update(bytes) {
      const seconds = Math.max((Date.now() - started) / 1000, 0.001);
      bar.update(bytes, { done: mib(bytes), speed: mib(bytes / seconds) });
    },
    stop() {
      bar.stop();
    },
  };
}
