import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { connect, type OapClient } from "@omnigate/sdk";

/**
 * Where the loader writes the tile index and the server reads it unless `--index` says
 * otherwise: `.omnigate/examples/tileserver/` in the repository root. `.omnigate/` is
 * git-ignored, so loading tiles leaves the checkout clean (a stray `tiles-index.json` in the
 * root used to fail the next `npm test` in Biome's format check). Resolved from this file
 * rather than the working directory, so both scripts find the same file wherever they run.
 */
export const DEFAULT_INDEX = fileURLToPath(
  new URL("../../.omnigate/examples/tileserver/tiles-index.json", import.meta.url),
);

/**
 * Flags both scripts take. Without --node/--ca-file, connect() resolves the node as ronctl
 * does: $RON_NODE_URL, else oap+tls://127.0.0.1:9443; $RON_CA_FILE and $RON_CAP, else, for a
 * node on this machine, the dev CA and dev capability in its data dir.
 */
export function readOptions(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      node: { type: "string" },
      "ca-file": { type: "string" },
      tenant: { type: "string", default: "0" },
      index: { type: "string", default: DEFAULT_INDEX },
      "max-zoom": { type: "string", default: "3" },
      port: { type: "string", default: "8080" },
      host: { type: "string", default: "127.0.0.1" },
      verbose: { type: "boolean", default: false },
    },
  });
  const tenant = values.tenant.replace(/^0x/i, "");
  if (!/^[0-9a-f]{1,32}$/i.test(tenant))
    throw new TypeError(`--tenant must be 1–32 hex digits, got "${values.tenant}"`);
  return {
    node: values.node,
    caFile: values["ca-file"],
    tenant: BigInt(`0x${tenant}`),
    index: values.index,
    maxZoom: Number(values["max-zoom"]),
    port: Number(values.port),
    host: values.host,
    verbose: values.verbose,
  };
}

export function connectNode(options: ReturnType<typeof readOptions>): Promise<OapClient> {
  return connect(options.node, {
    tenant: options.tenant,
    ...(options.caFile ? { caFile: options.caFile } : {}),
  });
}
