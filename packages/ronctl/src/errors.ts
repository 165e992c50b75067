/**
 * A refusal the user can act on: printed as `ronctl: <message>` (and its hint on the next
 * line), exit code 1, no stack trace.
 */
export class CommandRefused extends Error {
  override name = "CommandRefused";
  /** What to do about it, printed under the message. */
  readonly hint: string | undefined;

  constructor(message: string, options: { hint?: string | undefined; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.hint = options.hint;
  }
}
