/** The scenario's options and their defaults. */
import { DEFAULT_CLASSES, type TenantClass } from "./classes.js";

export interface MultiTenantOptions {
  /** Default 1000. */
  tenants?: number;
  classes?: TenantClass[];
  /** Loaded phase length (default 60). */
  loadedSeconds?: number;
  /** Unloaded (baseline) phase length (default 15). */
  unloadedSeconds?: number;
  /** Light load before the baseline, not counted: JIT and connection warm-up (default 2). */
  warmupSeconds?: number;
  /** Requests per second in all during warm-up and the unloaded phase (default 150). */
  unloadedRate?: number;
  /** The node's limits.node_max_inflight (default 200). */
  nodeMaxInflight?: number;
  /** Hold time of the "echo-delay" kind (default 1000 ms). */
  holdMs?: number;
  /** Hold time of the backend kind (default 100 ms). */
  backendHoldMs?: number;
  /** The backend app's max_inflight in the node (default 64). */
  backendMaxInflight?: number;
  /** SDK connections (default 16). */
  connections?: number;
  deadlineMs?: number;
  seed?: number;
  /** Progress lines (stderr in the CLI). */
  log?: (line: string) => void;
}

/** Every option, defaults filled in. */
export type Settings = Required<MultiTenantOptions>;

export function withDefaults(options: MultiTenantOptions): Settings {
  return {
    tenants: options.tenants ?? 1000,
    classes: options.classes ?? DEFAULT_CLASSES,
    loadedSeconds: options.loadedSeconds ?? 60,
    unloadedSeconds: options.unloadedSeconds ?? 15,
    warmupSeconds: options.warmupSeconds ?? 2,
    unloadedRate: options.unloadedRate ?? 150,
    nodeMaxInflight: options.nodeMaxInflight ?? 200,
    holdMs: options.holdMs ?? 1_000,
    backendHoldMs: options.backendHoldMs ?? 100,
    backendMaxInflight: options.backendMaxInflight ?? 64,
    connections: options.connections ?? 16,
    deadlineMs: options.deadlineMs ?? 5_000,
    seed: options.seed ?? 22,
    log: options.log ?? (() => {}),
  };
}
