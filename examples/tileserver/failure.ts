import { OapClientError } from "@omnigate/sdk";

/**
 * Ends a script on an error the way a CLI should: what failed and why (code and reason of an
 * OAP error) on one line, what to do on the next, the stack only with --verbose.
 */
export function exitWithError(script: string, error: unknown, verbose: boolean): never {
  const message = error instanceof Error ? error.message : String(error);
  const why = error instanceof OapClientError ? ` (${error.code} ${error.reason})` : "";
  const lines = [`${script}: ${message}${why}`];
  if (error instanceof OapClientError && error.hint) lines.push(`  hint: ${error.hint}`);
  // Two lines at most unless asked for more.
  if (verbose) lines.push(error instanceof Error ? (error.stack ?? message) : message);
  else if (lines.length === 1) lines.push("  (run again with --verbose for the details)");
  process.stderr.write(`${lines.join("\n")}\n`);
  process.exit(1);
}
