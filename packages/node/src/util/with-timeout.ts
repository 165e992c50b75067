/**
 * `promise`'s outcome, or a rejection with `timeoutError()` once `ms` pass first. The promise
 * itself goes on; its later outcome is ignored (and its rejection handled).
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, timeoutError: () => Error): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(timeoutError()), ms);
    // The work keeps the process alive if it must, not this timer.
    timer.unref();
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}
