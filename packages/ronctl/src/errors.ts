/** A refusal the user can act on: printed as `ronctl: <message>`, exit code 1, no stack trace. */
export class CommandRefused extends Error {
  override name = "CommandRefused";
}
