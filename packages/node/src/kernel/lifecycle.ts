import type { Service } from "@omnigate/sdk/internal";

/** What a supervised service gets when it starts. */
export interface ServiceContext {
  /** Aborted when this instance is stopped: after a crash, before a restart, at shutdown. */
  readonly signal: AbortSignal;
  /**
   * Reports that the service's own background work failed and it cannot go on serving:
   * the supervisor takes it down and restarts it. Calls from an instance that was already
   * replaced are ignored.
   */
  crash(error: unknown): void;
}

/**
 * A service with an optional lifecycle. Services without start/stop (HELLO, echo) are
 * supervised all the same: a crash of their handler restarts them as well.
 */
export interface ManagedService extends Service {
  /** Gets the service ready to take requests; rejecting (or timing out) is a crash. */
  start?(context: ServiceContext): void | Promise<void>;
  /** Releases what start() acquired; errors are logged, never fatal. */
  stop?(): void | Promise<void>;
}

export type ServiceState = "starting" | "running" | "crashed" | "restarting" | "quarantined" | "stopped";
