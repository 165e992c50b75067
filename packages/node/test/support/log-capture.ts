import pino from "pino";
import type { Logger } from "../../src/index.js";

export type LogLine = Record<string, unknown> & { level: number; msg?: string };

/** A real pino logger whose JSON lines are kept in memory, parsed, for tests to read. */
export function captureLogs(level = "debug"): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = pino(
    { level, base: { name: "omnigate" } },
    {
      write(line: string) {
        lines.push(JSON.parse(line) as LogLine);
      },
    },
  );
  return { logger, lines };
}
