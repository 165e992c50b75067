import { Command } from "commander";
import { callAdmin } from "../cap/admin-client.js";
import { type AdminOptions, resolveAdminTarget, withAdminOptions } from "../cap/admin-options.js";
import { nowSeconds, printJson, relative } from "../cap/describe.js";
import { isKeysResponse, isRotateResponse } from "../cap/wire.js";

export function rotateCommand(): Command {
  const command = new Command("rotate")
    .description(
      "Make a new root key current on the node. Tokens under the previous key keep verifying " +
        "for the node's grace period (auth key grace), then are refused.",
    )
    .option("--json", "print one JSON object");
  withAdminOptions(command);
  return command.action(async (opts: AdminOptions & { json?: boolean }) => {
    const rotated = await callAdmin(resolveAdminTarget(opts), "POST", "/v1/caps/rotate", isRotateResponse);
    if (opts.json) {
      printJson(rotated);
      return;
    }
    const at = Math.floor(Date.parse(rotated.retires_at) / 1000);
    process.stdout.write(
      `rotated: new tokens are minted under key ${rotated.key_id}; tokens under ${rotated.retiring} ` +
        `keep verifying until ${rotated.retires_at} (${relative(at, nowSeconds())}), then are refused\n`,
    );
  });
}

export function keysCommand(): Command {
  const command = new Command("keys")
    .description("List the node's root keys: which is current, which are retiring and when.")
    .option("--json", "print one JSON object");
  withAdminOptions(command);
  return command.action(async (opts: AdminOptions & { json?: boolean }) => {
    const { keys } = await callAdmin(resolveAdminTarget(opts), "GET", "/v1/caps/keys", isKeysResponse);
    if (opts.json) {
      printJson({ keys });
      return;
    }
    const now = nowSeconds();
    const lines = keys.map((k) => {
      const state = k.current
        ? "current"
        : k.retiresAt === undefined
          ? "valid"
          : Date.parse(k.retiresAt) <= now * 1000
            ? `retired ${k.retiresAt}`
            : `retiring ${k.retiresAt} (${relative(Math.floor(Date.parse(k.retiresAt) / 1000), now)})`;
      return `${k.id.padEnd(8)} created ${k.createdAt}  ${state}`;
    });
    process.stdout.write(`${lines.join("\n")}\n`);
  });
}
