import type { Logger } from "../log.js";
import type { KernelBus } from "./bus.js";
import type { ManagedService } from "./lifecycle.js";
import { type ServiceHealth, SupervisedService, type SupervisorPolicy } from "./supervised-service.js";

export type { ServiceHealth, SupervisorPolicy };

/**
 * Runs every service of the node: starts them, restarts the ones that crash (jittered
 * exponential backoff), quarantines the ones that keep crashing, reports health on the bus,
 * and stops them at shutdown. See SupervisedService for what counts as a crash.
 */
export class Supervisor {
  private readonly services: SupervisedService[] = [];

  constructor(
    private readonly deps: {
      policy: SupervisorPolicy;
      bus: KernelBus;
      log: Logger;
      onRestart(service: string): void;
    },
  ) {}

  /** Wraps a service; route the returned one in its place. */
  supervise(service: ManagedService): SupervisedService {
    const supervised = new SupervisedService(service, this.deps);
    this.services.push(supervised);
    return supervised;
  }

  /** Starts every service; resolves once each first attempt has succeeded or crashed (and is being retried). */
  async startAll(): Promise<void> {
    await Promise.all(this.services.map((s) => s.start()));
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.services.map((s) => s.stop()));
  }

  health(): ServiceHealth[] {
    const now = Date.now();
    return this.services.map((s) => s.health(now));
  }

  /** Services not serving right now (crashed, restarting, quarantined, starting). */
  down(): string[] {
    return this.health()
      .filter((h) => !h.ok)
      .map((h) => h.service);
  }
}
