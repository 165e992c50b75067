import pino, { type Logger } from "pino";

export type { Logger };

/** JSON lines through pino; pretty when a person is watching the terminal. */
export function createLogger(level: string, options: { pretty?: boolean } = {}): Logger {
  const pretty = options.pretty ?? process.stdout.isTTY === true;
  if (pretty && level !== "silent") {
    return pino({
      level,
      base: { name: "omnigate" },
      transport: { target: "pino-pretty", options: { colorize: true, translateTime: "SYS:HH:MM:ss.l" } },
    });
  }
  // `name`, not `service`: log lines about a supervised service carry their own `service` field.
  return pino({ level, base: { name: "omnigate" } });
}
