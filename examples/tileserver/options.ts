import { parseArgs } from "node:util";
import { connect, type OapClient } from "@omnigate/sdk";

export const DEFAULT_INDEX = "tiles-index.json";

/** Flags both scripts take; the node's URL and CA default to $RON_NODE_URL and $RON_CA_FILE. */
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
    },
  });
  return {
    node: values.node,
    caFile: values["ca-file"],
    tenant: BigInt(values.tenant.startsWith("0x") ? values.tenant : `0x${values.tenant}`),
    index: values.index,
    maxZoom: Number(values["max-zoom"]),
    port: Number(values.port),
    host: values.host,
  };
}

export function connectNode(options: ReturnType<typeof readOptions>): Promise<OapClient> {
  return connect(options.node, {
    tenant: options.tenant,
    ...(options.caFile ? { caFile: options.caFile } : {}),
  });
}
