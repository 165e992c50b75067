import { type CapContext, CapError, CapVerifier } from "@omnigate/caps";
import { Command } from "commander";
import { callAdmin } from "../cap/admin-client.js";
import { type AdminOptions, resolveAdminTarget, withAdminOptions } from "../cap/admin-options.js";
import { printJson } from "../cap/describe.js";
import { keyFileSource } from "../cap/key-file.js";
import { readToken, TOKEN_ARGUMENT_HELP, type TokenInput } from "../cap/token-input.js";
import { type ContextOptions, contextView, verifyContext } from "../cap/verify-context.js";
import { isVerifyResponse } from "../cap/wire.js";

interface VerifyOptions extends AdminOptions, ContextOptions {
  keyFile?: string;
  json?: boolean;
}

/** The verdict, whoever gave it. */
type Verdict = { ok: true } | { ok: false; reason: string; message: string };

export function verifyCapCommand(): Command {
  const command = new Command("verify")
    .description(
      "Verify a capability for a request, against a node (admin API: signature, key, " +
        "revocation, expiry, caveats) or locally with --key-file (everything but revocation). " +
        "Exit 0 when valid, 1 with the reason when refused. Left-out --tenant/--app/--op/--topic " +
        "take a value the token allows.",
    )
    .argument("<token>", TOKEN_ARGUMENT_HELP)
    .option("--tenant <hex>", "the tenant the request names (default: the token's)")
    .option("--app <id>", "the request's app_proto_id, e.g. 0x0201")
    .option("--op <op>", "the request's op, e.g. mailbox.send")
    .option("--topic <topic>", "the topic the request touches")
    .option(
      "--key-file <root-keys.json>",
      "verify locally against a copy of the node's <data dir>/auth/root-keys.json instead of asking a node; revocations are not seen",
    )
    .option("--json", "print one JSON object (the exit code still says valid or not)");
  withAdminOptions(command);
  return command.action(async (arg: string, opts: VerifyOptions) => {
    let input: TokenInput;
    try {
      input = readToken(arg);
    } catch (err) {
      // A token that does not decode is refused like any node would refuse it.
      if (!(err instanceof CapError)) throw err;
      return report(opts, undefined, "ronctl (decoding)", {
        ok: false,
        reason: err.reason,
        message: err.message,
      });
    }
    const ctx = verifyContext(opts, input.inspection.rules);
    if (opts.keyFile !== undefined) {
      return report(
        opts,
        ctx,
        `key file ${opts.keyFile} (revocations not checked)`,
        verifyLocally(input, ctx, opts.keyFile),
        input,
      );
    }
    const target = resolveAdminTarget(opts);
    const view = contextView(ctx);
    const answer = await callAdmin(target, "POST", "/v1/caps/verify", isVerifyResponse, {
      token: input.text,
      ...view,
    });
    const verdict: Verdict = answer.ok
      ? { ok: true }
      : { ok: false, reason: answer.reason, message: answer.message };
    return report(opts, ctx, `node ${target.url.origin}`, verdict, input);
  });
}

function verifyLocally(input: TokenInput, ctx: CapContext, keyFile: string): Verdict {
  const verifier = new CapVerifier({ keys: keyFileSource(keyFile) });
  try {
    verifier.verify(input.bytes, ctx);
    return { ok: true };
  } catch (err) {
    if (err instanceof CapError) return { ok: false, reason: err.reason, message: err.message };
    throw err;
  }
}

function report(
  opts: VerifyOptions,
  ctx: CapContext | undefined,
  checkedBy: string,
  verdict: Verdict,
  input?: TokenInput,
): void {
  if (!verdict.ok) process.exitCode = 1;
  const request = ctx === undefined ? undefined : contextView(ctx);
  if (opts.json) {
    printJson({
      ...verdict,
      checked_by: checkedBy,
      ...(request ? { request } : {}),
      ...(input ? { token_id: input.inspection.tokenId, key_id: input.inspection.keyId } : {}),
    });
    return;
  }
  const what = request
    ? `tenant ${request.tenant}, app ${request.app}${request.op ? `, op ${request.op}` : ""}${request.topic ? `, topic ${request.topic}` : ""}`
    : "";
  if (verdict.ok) {
    process.stdout.write(
      `valid: token ${input?.inspection.tokenId} (key ${input?.inspection.keyId}) for ${what}; checked by ${checkedBy}\n`,
    );
  } else {
    process.stderr.write(
      `ronctl: refused (${verdict.reason}): ${verdict.message}${what ? `; request: ${what}` : ""}; checked by ${checkedBy}\n`,
    );
  }
}
