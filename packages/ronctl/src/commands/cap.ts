import { Command } from "commander";
import { attenuateCommand } from "./cap-attenuate.js";
import { inspectCommand } from "./cap-inspect.js";
import { mintCommand } from "./cap-mint.js";
import { listRevokedCommand, revokeCommand } from "./cap-revoke.js";
import { keysCommand, rotateCommand } from "./cap-rotate.js";
import { verifyCapCommand } from "./cap-verify.js";

export function capCommand(): Command {
  return new Command("cap")
    .description(
      "Capability tokens: mint, inspect, verify, attenuate, rotate keys, revoke (see docs/capabilities.md).",
    )
    .addCommand(mintCommand())
    .addCommand(inspectCommand())
    .addCommand(verifyCapCommand())
    .addCommand(attenuateCommand())
    .addCommand(rotateCommand())
    .addCommand(keysCommand())
    .addCommand(revokeCommand())
    .addCommand(listRevokedCommand());
}
