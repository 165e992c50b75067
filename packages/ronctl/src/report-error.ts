import { OapClientError } from "@omnigate/sdk";
import { CommandRefused } from "./errors.js";

/**
 * The lines ronctl prints for a failed command: what failed and why on the first line (with
 * the code and reason of an OAP error), what to do on the second. With `verbose`, the rest:
 * corr_id, the stack and each cause. A bug prints the same way, plus how to see its stack.
 */
export function errorReport(error: unknown, verbose: boolean): string[] {
  const lines = [`ronctl: ${headline(error)}`];
  const hint = hintOf(error);
  if (hint !== undefined) lines.push(`  hint: ${hint}`);
  if (verbose) lines.push(...details(error));
  else if (!isExpected(error)) lines.push("  (unexpected: run again with --verbose for the stack trace)");
  return lines;
}

function headline(error: unknown): string {
  if (error instanceof OapClientError) return `${error.message} (${error.code} ${error.reason})`;
  if (error instanceof Error) return error.message;
  return String(error);
}

function hintOf(error: unknown): string | undefined {
  if (error instanceof OapClientError || error instanceof CommandRefused) return error.hint;
  return undefined;
}

/**
 * Failures a user meets in normal use: refusals, the node's and the client's errors, bad
 * arguments the SDK rejects (TypeError, RangeError: a URL, a tenant) and files that cannot
 * be read.
 */
function isExpected(error: unknown): boolean {
  return (
    error instanceof CommandRefused ||
    error instanceof OapClientError ||
    error instanceof TypeError ||
    error instanceof RangeError ||
    typeof (error as NodeJS.ErrnoException | null)?.syscall === "string"
  );
}

function details(error: unknown): string[] {
  const lines: string[] = [];
  if (error instanceof OapClientError && error.corrId !== undefined) lines.push(`  corr_id: ${error.corrId}`);
  let current: unknown = error;
  for (let depth = 0; current !== undefined && depth < 8; depth++) {
    const text = current instanceof Error ? (current.stack ?? current.message) : String(current);
    lines.push(depth === 0 ? text : `caused by: ${text}`);
    current = current instanceof Error ? current.cause : undefined;
  }
  return lines;
}
