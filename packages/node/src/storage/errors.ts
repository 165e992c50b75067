import { OapError } from "@omnigate/oap";
import type { Logger } from "../log.js";
import { StoreFullError } from "./engine.js";

/**
 * What a client is told when the engine fails: a full store is 413, any other I/O error is
 * 500 `internal` (logged with its details, which never go to the client). An OapError
 * passes through; a disk error is not a reason to restart the service.
 */
export function toOapError(error: unknown, log: Logger, op: string): OapError {
  if (error instanceof OapError) return error;
  if (error instanceof StoreFullError) return new OapError("payload_too_large", error.message);
  log.error({ err: error, op }, "storage engine error");
  return new OapError("internal", `storage ${op} failed in the node; try again later`);
}
