/** pino-compatible subset; the client and serve() log nothing unless given one. */
export interface Logger {
  debug(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
}

export const SILENT_LOGGER: Logger = {
  debug() {},
  warn() {},
};
