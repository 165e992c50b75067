import { CapError, decodeToken, formatAppId, inspectToken, parseTenant } from "@omnigate/caps";
import { Command } from "commander";
import { callAdmin } from "../cap/admin-client.js";
import { type AdminOptions, resolveAdminTarget, withAdminOptions } from "../cap/admin-options.js";
import { describeLines, nowSeconds, printJson, summarize } from "../cap/describe.js";
import { parseRestrictions, type RestrictionOptions, withRestrictionOptions } from "../cap/restrictions.js";
import { isMintResponse, type MintRequest } from "../cap/wire.js";
import { CommandRefused } from "../errors.js";

interface MintOptions extends AdminOptions, RestrictionOptions {
  tenant: string;
  json?: boolean;
}

export function mintCommand(): Command {
  const command = new Command("mint")
    .description(
      "Mint a capability through the node's admin API. Prints the token alone on stdout " +
        "(so TOKEN=$(ronctl cap mint ...) works) and a summary on stderr.",
    )
    .requiredOption("--tenant <hex>", "the tenant the token acts for, u128 hex (e.g. 0x2a)")
    .option("--json", "print one JSON object with the token and its summary instead");
  withRestrictionOptions(command);
  withAdminOptions(command);
  return command.action(async (opts: MintOptions) => {
    const request = mintRequest(opts);
    const target = resolveAdminTarget(opts);
    const minted = await callAdmin(target, "POST", "/v1/caps/mint", isMintResponse, request);
    const now = nowSeconds();
    const summary = summarize(inspectMinted(minted.token), now);
    if (opts.json) {
      printJson({ token: minted.token, ...summary });
      return;
    }
    process.stdout.write(`${minted.token}\n`);
    process.stderr.write(
      [
        `minted by ${target.url.origin}`,
        ...describeLines(summary, now),
        "use it: export RON_CAP=<the token above>",
        "",
      ].join("\n"),
    );
  });
}

function mintRequest(opts: MintOptions): MintRequest {
  let tenant: bigint;
  try {
    tenant = parseTenant(opts.tenant);
  } catch {
    throw new CommandRefused(`--tenant must be 1–32 hex digits (optional 0x), got "${opts.tenant}"`);
  }
  const r = parseRestrictions(opts);
  return {
    tenant: `0x${tenant.toString(16)}`,
    ...(r.apps ? { apps: r.apps.map(formatAppId) } : {}),
    ...(r.ops ? { ops: r.ops } : {}),
    ...(r.topics !== undefined ? { topics: r.topics } : {}),
    ...(r.ttlSeconds !== undefined ? { ttl_s: r.ttlSeconds } : {}),
    ...(r.rps !== undefined ? { rps: r.rps } : {}),
    ...(r.bytes !== undefined ? { bytes: r.bytes } : {}),
  };
}

function inspectMinted(token: string) {
  try {
    return inspectToken(decodeToken(token));
  } catch (err) {
    if (err instanceof CapError)
      throw new CommandRefused(`the node returned a token ronctl cannot decode: ${err.message}`);
    throw err;
  }
}
