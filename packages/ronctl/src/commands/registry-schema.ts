import { writeFileSync } from "node:fs";
import { REGISTRY_SCHEMA } from "@omnigate/registry";
import { Command } from "commander";

export function schemaCommand(): Command {
  return new Command("schema")
    .description("Print the registry's JSON Schema (the source of registry/app_proto_ids.schema.json).")
    .option("--out <file>", "write it to a file instead of stdout")
    .action((opts: { out?: string }) => {
      const text = `${JSON.stringify(REGISTRY_SCHEMA, null, 2)}\n`;
      if (opts.out) writeFileSync(opts.out, text);
      else process.stdout.write(text);
    });
}
