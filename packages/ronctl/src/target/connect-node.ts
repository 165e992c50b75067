import { connect, type OapClient, OapConnectionError } from "@omnigate/sdk";
import { CommandRefused } from "../errors.js";
import { type NodeOptions, resolveNodeTarget } from "./node-options.js";

/**
 * A client of the node the options name. A failure to connect names where the URL came from,
 * since a wrong --node, $RON_NODE_URL or context is the usual cause.
 */
export async function connectToNode(opts: NodeOptions): Promise<OapClient> {
  const target = resolveNodeTarget(opts);
  try {
    return await connect(target.url, {
      tenant: target.tenant,
      ...(target.caFile ? { caFile: target.caFile } : {}),
      ...(target.cap ? { cap: target.cap } : {}),
      ...(target.insecure ? { insecure: true } : {}),
    });
  } catch (error) {
    if (!(error instanceof OapConnectionError)) throw error;
    throw new CommandRefused(
      `${error.message} (${error.code} ${error.reason}; node from ${target.urlFrom})`,
      { hint: error.hint, cause: error },
    );
  }
}

/** Runs `work` with a client of the node, closing it afterwards whatever happens. */
export async function withNodeClient(opts: NodeOptions, work: (client: OapClient) => Promise<void>) {
  const client = await connectToNode(opts);
  try {
    await work(client);
  } finally {
    await client.close();
  }
}
