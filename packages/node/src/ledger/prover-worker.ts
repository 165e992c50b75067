/**
 * Worker thread that builds zero-knowledge settlement records: a 16-part proof takes seconds
 * of CPU, which must not stall the node's event loop. Messages: {id, input} in, {id, record}
 * or {id, error} out; the node's key comes as PEM in workerData.
 */
import { parentPort, workerData } from "node:worker_threads";
import { createSettlement, nodeKeyFromPem, type SettlementInput } from "@omnigate/ledger";

const key = nodeKeyFromPem((workerData as { keyPem: string }).keyPem);
parentPort?.on("message", ({ id, input }: { id: number; input: SettlementInput }) => {
  try {
    parentPort?.postMessage({ id, record: createSettlement(input, key) });
  } catch (error) {
    parentPort?.postMessage({ id, error: error instanceof Error ? error.message : String(error) });
  }
});
