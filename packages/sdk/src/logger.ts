/** pino-compatible subset; the client and serve() log nothing unless given one. */
export interface Logger {
  /** Routine events: a retry, a refreshed capability, a connection the node drains. */
  debug(fields: Record<string, unknown>, message: string): void;
  /** A failure no caller sees otherwise: an event listener or an app handler that threw. */
  warn(fields: Record<string, unknown>, message: string): void;
}

export const SILENT_LOGGER: Logger = {
  debug() {},
  warn() {},
};
