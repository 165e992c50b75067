import { Command } from "commander";
import { capCommand } from "./commands/cap.js";
import { contextCommand } from "./commands/context.js";
import { ledgerCommand } from "./commands/ledger.js";
import { mailboxCommand } from "./commands/mailbox.js";
import { registryCommand } from "./commands/registry.js";
import { storageCommand } from "./commands/storage.js";
import { VERSION } from "./version.js";

/** The `ronctl` command tree. Subcommands set process.exitCode; they do not call process.exit. */
export function createProgram(): Command {
  return new Command("ronctl")
    .description("Omnigate operator and developer tool.")
    .version(VERSION)
    .option("--verbose", "on failure, print the stack trace and causes too")
    .showHelpAfterError()
    .addCommand(registryCommand())
    .addCommand(capCommand())
    .addCommand(mailboxCommand())
    .addCommand(storageCommand())
    .addCommand(contextCommand())
    .addCommand(ledgerCommand());
}
