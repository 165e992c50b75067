import { formatTenant, parseTenant } from "@omnigate/caps";
import { Command } from "commander";
import { callAdmin } from "../cap/admin-client.js";
import { type AdminOptions, resolveAdminTarget, withAdminOptions } from "../cap/admin-options.js";
import { printJson } from "../cap/describe.js";
import { isRevokedResponse, isRevokeResponse, type Revocation, type RevokeRequest } from "../cap/wire.js";
import { CommandRefused } from "../errors.js";

interface RevokeOptions extends AdminOptions {
  tokenId?: string;
  tenant?: string;
  json?: boolean;
}

export function revokeCommand(): Command {
  const command = new Command("revoke")
    .description(
      "Revoke one token by its id (see `cap inspect`), or every token of a tenant minted so far " +
        "(its epoch moves on; new mints still work). Raises the node's rev_seq.",
    )
    .option("--token-id <id>", "the token id to revoke")
    .option("--tenant <hex>", "revoke every token of this tenant minted so far")
    .option("--json", "print one JSON object");
  withAdminOptions(command);
  return command.action(async (opts: RevokeOptions) => {
    const request = revokeRequest(opts);
    const { rev_seq } = await callAdmin(
      resolveAdminTarget(opts),
      "POST",
      "/v1/caps/revoke",
      isRevokeResponse,
      request,
    );
    if (opts.json) {
      printJson({ ...request, rev_seq });
      return;
    }
    process.stdout.write(
      "token_id" in request
        ? `revoked token ${request.token_id}; rev_seq is now ${rev_seq}\n`
        : `revoked every token of tenant ${request.tenant} minted so far; rev_seq is now ${rev_seq}\n`,
    );
  });
}

function revokeRequest(opts: RevokeOptions): RevokeRequest {
  if ((opts.tokenId === undefined) === (opts.tenant === undefined)) {
    throw new CommandRefused("give exactly one of --token-id <id> or --tenant <hex>");
  }
  if (opts.tokenId !== undefined) {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(opts.tokenId)) {
      throw new CommandRefused(
        `--token-id is 1–64 of A-Z a-z 0-9 _ - (as \`cap inspect\` shows it), got "${opts.tokenId}"`,
      );
    }
    return { token_id: opts.tokenId };
  }
  try {
    return { tenant: formatTenant(parseTenant(opts.tenant as string)) };
  } catch {
    throw new CommandRefused(`--tenant must be 1–32 hex digits (optional 0x), got "${opts.tenant}"`);
  }
}

export function listRevokedCommand(): Command {
  const command = new Command("list-revoked")
    .description(
      "List the node's revocations after a rev_seq (the diff a client that knows that rev_seq needs).",
    )
    .option("--since <rev_seq>", "show revocations after this sequence number", "0")
    .option("--json", "print one JSON object");
  withAdminOptions(command);
  return command.action(async (opts: AdminOptions & { since: string; json?: boolean }) => {
    if (!/^\d{1,15}$/.test(opts.since))
      throw new CommandRefused(`--since must be a rev_seq (integer ≥ 0), got "${opts.since}"`);
    const answer = await callAdmin(
      resolveAdminTarget(opts),
      "GET",
      `/v1/caps/revoked?since=${Number(opts.since)}`,
      isRevokedResponse,
    );
    if (opts.json) {
      printJson(answer);
      return;
    }
    const n = answer.revocations.length;
    const lines = [
      `rev_seq ${answer.rev_seq}; ${n} revocation${n === 1 ? "" : "s"} after ${opts.since}`,
      ...answer.revocations.map(describeRevocation),
    ];
    process.stdout.write(`${lines.join("\n")}\n`);
  });
}

function describeRevocation(r: Revocation): string {
  const what =
    r.kind === "token" ? `token ${r.token_id}` : `tenant ${r.tenant}: tokens minted before epoch ${r.epoch}`;
  return `${String(r.seq).padStart(6)}  ${r.at}  ${what}`;
}
