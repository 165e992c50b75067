import {
  attenuateToken,
  CapError,
  type CaveatRule,
  encodeToken,
  inspectToken,
  parseCaveat,
} from "@omnigate/caps";
import { Command } from "commander";
import { describeLines, nowSeconds, printJson, summarize } from "../cap/describe.js";
import {
  parseRestrictions,
  type RestrictionOptions,
  restrictionCaveats,
  withRestrictionOptions,
} from "../cap/restrictions.js";
import { readTokenOrRefuse, TOKEN_ARGUMENT_HELP } from "../cap/token-input.js";
import { CommandRefused } from "../errors.js";

interface AttenuateOptions extends RestrictionOptions {
  caveat: string[];
  json?: boolean;
}

export function attenuateCommand(): Command {
  const command = new Command("attenuate")
    .description(
      "Narrow a capability by adding caveats, locally and without the root key. Prints the " +
        "narrowed token alone on stdout and a summary on stderr.",
    )
    .argument("<token>", TOKEN_ARGUMENT_HELP)
    .option(
      "--caveat <caveat>",
      'a caveat in the grammar of packages/caps/README.md, e.g. "topics ^= chat/room-7"; repeatable',
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    )
    .option("--json", "print one JSON object with the token and its summary instead");
  withRestrictionOptions(command);
  return command.action((arg: string, opts: AttenuateOptions) => {
    const input = readTokenOrRefuse(arg);
    const now = nowSeconds();
    const caveats = [...opts.caveat.map(checkedCaveat), ...restrictionCaveats(parseRestrictions(opts), now)];
    if (caveats.length === 0) {
      throw new CommandRefused(
        "give at least one --caveat (or --apps, --ops, --topics, --ttl, --rps, --bytes)",
      );
    }
    let narrowed: Uint8Array;
    try {
      narrowed = attenuateToken(input.bytes, caveats);
    } catch (err) {
      if (err instanceof CapError) throw new CommandRefused(`cannot attenuate: ${err.message}`);
      throw err;
    }
    const token = encodeToken(narrowed);
    const summary = summarize(inspectToken(narrowed), now);
    if (opts.json) {
      printJson({ token, ...summary });
      return;
    }
    process.stdout.write(`${token}\n`);
    process.stderr.write(
      [
        `added ${caveats.length} caveat${caveats.length === 1 ? "" : "s"}`,
        ...describeLines(summary, now),
        "",
      ].join("\n"),
    );
  });
}

function checkedCaveat(text: string): CaveatRule {
  try {
    return parseCaveat(text);
  } catch (err) {
    if (err instanceof CapError) {
      throw new CommandRefused(
        `--caveat ${JSON.stringify(text)} is outside the caveat grammar (packages/caps/README.md), ` +
          'e.g. "apps = 0x0201", "ops = mailbox.send", "topics ^= chat/", "expires < 1767225600", "rps <= 10"',
      );
    }
    throw err;
  }
}
