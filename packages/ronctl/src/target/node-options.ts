import { accessSync, constants, readFileSync } from "node:fs";
import { CapError, parseTenant } from "@omnigate/caps";
import { CA_FILE_ENV, CAP_ENV, DEFAULT_NODE_URL, NODE_URL_ENV } from "@omnigate/sdk";
import { type Command, Option } from "commander";
import { CommandRefused } from "../errors.js";
import { contextsFile, readContexts, selectedContext } from "./context-store.js";

/** The flags every command that talks to a node over OAP takes (mailbox, storage). */
export interface NodeOptions {
  node?: string;
  /** Deprecated spelling of --node (ronctl mailbox took it). */
  url?: string;
  caFile?: string;
  cap?: string;
  capFile?: string;
  insecure?: boolean;
  tenant?: string;
}

/** Which node to reach and with what; undefined fields are left to connect()'s own defaults. */
export interface NodeTarget {
  url: string | undefined;
  /** Where the URL came from, for messages: "--node", "$RON_NODE_URL", "context dev", "the local default". */
  urlFrom: string;
  caFile: string | undefined;
  cap: string | undefined;
  insecure: boolean;
  tenant: bigint;
}

export function withNodeOptions(command: Command): Command {
  return command
    .option(
      "--node <url>",
      `the node, oap+tls://host:port (default: $${NODE_URL_ENV}, else the selected context, else ${DEFAULT_NODE_URL})`,
    )
    .addOption(new Option("--url <url>", "deprecated: use --node").hideHelp())
    .option(
      "--ca-file <path>",
      `PEM CA to trust (default: $${CA_FILE_ENV}, else the context's, else a local node's dev CA)`,
    )
    .option("--cap <token>", `capability, base64url (default: $${CAP_ENV}, else the context's)`)
    .option(
      "--cap-file <path>",
      "file holding the capability; without --cap/--cap-file/$RON_CAP, a local node's dev capability",
    )
    .option("--insecure", "skip certificate checks (throwaway local nodes only)")
    .option("--tenant <hex>", "tenant to act for, u128 hex (default: 0)");
}

/**
 * Flag > environment > the selected context > the local default, for the node and for its
 * credentials. A context's CA and capability go with its node: they apply only when the
 * context chose the node.
 */
export function resolveNodeTarget(opts: NodeOptions, env: NodeJS.ProcessEnv = process.env): NodeTarget {
  const tenant = tenantOf(opts.tenant);
  const flagUrl = opts.node ?? opts.url;
  const fromContext =
    flagUrl || env[NODE_URL_ENV] ? undefined : selectedContext(readContexts(contextsFile(env)));
  const [url, urlFrom] = flagUrl
    ? [flagUrl, opts.node ? "--node" : "--url"]
    : env[NODE_URL_ENV]
      ? [env[NODE_URL_ENV], `$${NODE_URL_ENV}`]
      : fromContext
        ? [fromContext.context.node, `context ${fromContext.name}`]
        : [undefined, `the local default ${DEFAULT_NODE_URL}`];
  // --insecure stands in for every CA setting but an explicit --ca-file (which connect() refuses with it).
  const [caFile, caFrom] = opts.caFile
    ? [opts.caFile, "--ca-file"]
    : opts.insecure
      ? [undefined, ""]
      : env[CA_FILE_ENV]
        ? [env[CA_FILE_ENV], `$${CA_FILE_ENV}`]
        : [fromContext?.context.caFile, `context ${fromContext?.name}`];
  if (caFile !== undefined) mustBeReadable(caFile, `the CA file ${caFile} (from ${caFrom})`);
  const cap =
    opts.cap ??
    (opts.capFile !== undefined
      ? readCapFile(opts.capFile, "--cap-file")
      : env[CAP_ENV] ||
        (fromContext?.context.capFile
          ? readCapFile(fromContext.context.capFile, `context ${fromContext.name}`)
          : undefined));
  return { url, urlFrom, caFile, cap, insecure: opts.insecure === true, tenant };
}

function tenantOf(text: string | undefined): bigint {
  if (text === undefined) return 0n;
  try {
    return parseTenant(text);
  } catch (error) {
    if (error instanceof CapError)
      throw new CommandRefused(`--tenant must be 1–32 hex digits (optional 0x), got "${text}"`);
    throw error;
  }
}

/** A file named by a flag, variable or context that cannot be read is named with where it came from. */
function mustBeReadable(file: string, what: string): void {
  try {
    accessSync(file, constants.R_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new CommandRefused(`cannot read ${what}: ${code === "ENOENT" ? "no such file" : code}`, {
      hint: "pass the node's CA (a local node's banner shows it) with --ca-file or RON_CA_FILE",
    });
  }
}

function readCapFile(file: string, from: string): string {
  let text: string;
  try {
    text = readFileSync(file, "utf8").trim();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new CommandRefused(`cannot read the capability file ${file} (from ${from}): ${code}`, {
      hint: "check the path, or mint a capability with ronctl cap mint > <file>",
    });
  }
  if (text === "") throw new CommandRefused(`the capability file ${file} (from ${from}) is empty`);
  return text;
}
