import { Command } from "commander";
import { describeLines, nowSeconds, printJson, summarize } from "../cap/describe.js";
import { readTokenOrRefuse, TOKEN_ARGUMENT_HELP } from "../cap/token-input.js";

export function inspectCommand(): Command {
  return new Command("inspect")
    .description(
      "Decode a capability and show its tenant, caveats, expiry, key id, token id and epoch. " +
        "Checks nothing: use `cap verify` for that.",
    )
    .argument("<token>", TOKEN_ARGUMENT_HELP)
    .option("--json", "print one JSON object")
    .action((arg: string, opts: { json?: boolean }) => {
      const now = nowSeconds();
      const summary = summarize(readTokenOrRefuse(arg).inspection, now);
      if (opts.json) {
        printJson(summary);
        return;
      }
      process.stdout.write(
        [
          ...describeLines(summary, now),
          "(decoded only, not verified: `ronctl cap verify` checks it)",
          "",
        ].join("\n"),
      );
    });
}
