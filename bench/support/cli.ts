import { interrupted } from "./children.js";

/** The small command-line kit every socket benchmark uses: JSON lines out, progress and errors on stderr. */
export function benchCli(name: string) {
  const fail = (message: string): never => {
    process.stderr.write(`${name}: ${message}\n`);
    process.exit(2);
  };
  const progress = (message: string): void => {
    process.stderr.write(`${name}: ${message}\n`);
  };
  return {
    fail,
    progress,
    emit(line: Record<string, unknown>): void {
      process.stdout.write(`${JSON.stringify(line)}\n`);
    },
    positive(flag: string, value: number): number {
      if (!(value > 0)) fail(`${flag} must be a positive number`);
      return value;
    },
    list(flag: string, value: string): number[] {
      return value.split(",").map((part) => {
        const n = Number(part);
        if (!Number.isInteger(n) || n <= 0) fail(`${flag}: "${part}" is not a positive integer`);
        return n;
      });
    },
    /** Runs the benchmark and exits: 0 when done, 1 on an error (not when Ctrl-C stopped it). */
    run(main: () => Promise<void>): void {
      main().then(
        () => process.exit(0),
        (error: unknown) => {
          // Stopping the servers on Ctrl-C fails the requests in flight; the signal handler exits.
          if (interrupted()) return;
          progress(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
          process.exit(1);
        },
      );
    },
  };
}
