import { Command } from "commander";
import { keygenCommand } from "./registry-keygen.js";
import { schemaCommand } from "./registry-schema.js";
import { signCommand } from "./registry-sign.js";
import { verifyCommand } from "./registry-verify.js";

export function registryCommand(): Command {
  return new Command("registry")
    .description("Check and sign the app_proto_id registry (see REGISTRY.md).")
    .addCommand(verifyCommand())
    .addCommand(signCommand())
    .addCommand(keygenCommand())
    .addCommand(schemaCommand());
}
