import type { SessionLimits } from "@omnigate/sdk/internal";
import type { NodeConfig } from "./schema.js";

/**
 * What every client session (TLS and WebSocket alike) takes from the node's settings: the
 * `limits.*` keys of the same names. The one place config becomes session limits.
 */
export function sessionLimits(config: NodeConfig): SessionLimits {
  return {
    maxFrame: config.maxFrame,
    maxInflight: config.maxInflight,
    maxCapLen: config.maxCapLen,
    readBufferBytes: config.readBufferBytes,
    writeBufferBytes: config.writeBufferBytes,
    defaultDeadlineMs: config.defaultDeadlineMs,
    maxDeadlineMs: config.maxDeadlineMs,
    firstHeaderTimeoutMs: config.firstHeaderTimeoutMs,
    frameTimeoutMs: config.frameTimeoutMs,
    idleTimeoutMs: config.idleTimeoutMs,
    writeStallTimeoutMs: config.writeStallTimeoutMs,
    compMaxOutputBytes: config.compMaxOutputBytes,
    compMaxRatio: config.compMaxRatio,
    compRatioGraceBytes: config.compRatioGraceBytes,
  };
}
