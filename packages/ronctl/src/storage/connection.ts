import { CapError, parseTenant } from "@omnigate/caps";
import { connect, type OapClient } from "@omnigate/sdk";
import type { Command } from "commander";
import { CommandRefused } from "../errors.js";

export interface NodeOptions {
  node?: string;
  caFile?: string;
  tenant?: string;
  cap?: string;
  timeout: string;
}

/** The options every `ronctl storage` command takes to reach a node. */
export function withNodeOptions(command: Command): Command {
  return command
    .option("--node <url>", "oap+tls://host:port of the node (default: $RON_NODE_URL)")
    .option("--ca-file <path>", "PEM CA to trust, e.g. the node's dev CA (default: $RON_CA_FILE)")
    .option("--tenant <hex>", "tenant to act for, hex (default: 0)")
    .option("--cap <token>", "capability token (default: $RON_CAP)")
    .option("--timeout <seconds>", "deadline of the whole transfer", "300");
}

/** A client of the node the options name; refusals the user can act on become CommandRefused. */
export async function connectToNode(opts: NodeOptions): Promise<{ client: OapClient; deadlineMs: number }> {
  let tenant = 0n;
  try {
    if (opts.tenant !== undefined) tenant = parseTenant(opts.tenant);
  } catch (error) {
    if (error instanceof CapError)
      throw new CommandRefused(`--tenant must be up to 32 hex digits, got ${opts.tenant}`);
    throw error;
  }
  const seconds = Number(opts.timeout);
  if (!Number.isFinite(seconds) || seconds <= 0)
    throw new CommandRefused("--timeout must be a positive number of seconds");
  try {
    const client = await connect(opts.node, {
      tenant,
      ...(opts.caFile ? { caFile: opts.caFile } : {}),
      ...(opts.cap ? { cap: opts.cap } : {}),
    });
    return { client, deadlineMs: seconds * 1000 };
  } catch (error) {
    throw new CommandRefused(
      `cannot reach the node: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}
