import { EventEmitter } from "node:events";
import { formatAppProtoId, OapError } from "@omnigate/oap";
import type { IncomingEvent, IncomingRequest, ResponseWriter, Service } from "@omnigate/sdk/internal";
import type { Logger } from "../log.js";
import { restartDelay } from "./backoff.js";
import type { KernelBus } from "./bus.js";
import type { ManagedService, ServiceState } from "./lifecycle.js";

export interface SupervisorPolicy {
  backoffInitialMs: number;
  backoffMaxMs: number;
  /** More crashes than this within `crashWindowMs` quarantine the service. */
  crashLimit: number;
  crashWindowMs: number;
  quarantineMs: number;
  /** Bound on start() and stop(); a start() that takes longer is a crash. */
  startTimeoutMs: number;
}

export interface SupervisionDeps {
  policy: SupervisorPolicy;
  bus: KernelBus;
  log: Logger;
  onRestart(service: string): void;
}

export interface ServiceHealth {
  service: string;
  app: string;
  state: ServiceState;
  ok: boolean;
  restarts: number;
  crashes_in_window: number;
  /** How long until the next restart attempt (crashed or quarantined), else 0. */
  retry_in_ms: number;
  last_crash: string | undefined;
}

/** Floor of the retry hint sent while a service is down (a restart is already under way). */
const MIN_RETRY_AFTER_MS = 100;

/**
 * One service under supervision, routed in its place. What counts as a crash:
 * - start() rejecting or exceeding `startTimeoutMs`;
 * - the service reporting one (`context.crash(err)`), or emitting 'error' if it is an EventEmitter;
 * - its handler throwing (or rejecting with) anything that is not an OapError, unless the
 *   request had already been torn down (an abort surfacing as an error is not a bug).
 * An OapError is the service's answer to one request (a plain error reply), never a crash.
 *
 * The request whose handler crashed gets the session's 500 `internal`; while the service
 * is down (crashed, restarting, quarantined) every request gets 503 `service_crashed`
 * with `retry_after_ms` at once — nothing waits for the restart.
 */
export class SupervisedService implements Service {
  readonly appProtoId: number;
  readonly name: string;
  private state: ServiceState = "stopped";
  /** Bumped on every start: crashes reported by a replaced instance are ignored. */
  private generation = 0;
  private controller = new AbortController();
  private crashTimes: number[] = [];
  private restarts = 0;
  private lastCrash: string | undefined;
  private retryAt = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly service: ManagedService,
    private readonly deps: SupervisionDeps,
  ) {
    this.appProtoId = service.appProtoId;
    this.name = service.name;
    if (service instanceof EventEmitter) {
      service.on("error", (err: unknown) => this.crash(err, "error event", this.generation));
    }
  }

  handle(req: IncomingRequest, res: ResponseWriter): void | Promise<void> {
    if (this.state !== "running") throw this.unavailable();
    const generation = this.generation;
    let result: void | Promise<void>;
    try {
      result = this.service.handle(req, res);
    } catch (err) {
      this.checkFailure(err, req, generation);
      throw err;
    }
    if (result && typeof result.then === "function") {
      return result.then(undefined, (err: unknown) => {
        this.checkFailure(err, req, generation);
        throw err;
      });
    }
    return result;
  }

  /** Events reach the service only while it runs; a throw that is not an OapError is a crash. */
  event(event: IncomingEvent): void {
    const take = this.service.event?.bind(this.service);
    if (!take) throw new OapError("unsupported", `service ${this.name} takes no EVENT frames`);
    if (this.state !== "running") throw this.unavailable();
    const generation = this.generation;
    try {
      take(event);
    } catch (err) {
      if (!(err instanceof OapError)) this.crash(err, "event handler", generation);
      throw err;
    }
  }

  health(now = Date.now()): ServiceHealth {
    return {
      service: this.name,
      app: formatAppProtoId(this.appProtoId),
      state: this.state,
      ok: this.state === "running",
      restarts: this.restarts,
      crashes_in_window: this.recentCrashes(now).length,
      retry_in_ms:
        this.state === "crashed" || this.state === "quarantined" ? Math.max(0, this.retryAt - now) : 0,
      last_crash: this.lastCrash,
    };
  }

  /** First start; a failure is handled like any crash (restart with backoff), never thrown. */
  start(): Promise<void> {
    this.state = "starting";
    return this.startInstance();
  }

  async stop(): Promise<void> {
    this.state = "stopped";
    clearTimeout(this.timer);
    await this.stopInstance();
  }

  private checkFailure(err: unknown, req: IncomingRequest, generation: number): void {
    if (err instanceof OapError || req.signal.aborted) return;
    this.crash(err, "handler", generation);
  }

  private unavailable(): OapError {
    if (this.state === "starting") {
      return new OapError("not_ready", `service ${this.name} is starting`, {
        retryAfterMs: MIN_RETRY_AFTER_MS,
      });
    }
    if (this.state === "stopped") {
      return new OapError("shutting_down", `service ${this.name} has stopped`, { retryAfterMs: 1_000 });
    }
    const wait = Math.max(MIN_RETRY_AFTER_MS, this.retryAt - Date.now());
    return new OapError(
      "service_crashed",
      `service ${this.name} is ${this.state === "quarantined" ? "quarantined" : "restarting"} after a crash; retry in ${wait} ms`,
      { retryAfterMs: wait },
    );
  }

  private crash(err: unknown, origin: string, generation: number): void {
    if (generation !== this.generation) return;
    if (this.state !== "running" && this.state !== "starting" && this.state !== "restarting") return;
    const now = Date.now();
    this.crashTimes = this.recentCrashes(now);
    this.crashTimes.push(now);
    const reason = describe(err);
    this.lastCrash = reason;
    this.controller.abort();
    const { bus, log, policy } = this.deps;
    bus.publish({ kind: "ServiceCrashed", service: this.name, reason });
    bus.publish({ kind: "Health", service: this.name, ok: false });

    const crashes = this.crashTimes.length;
    const quarantine = crashes > policy.crashLimit;
    const delay = quarantine
      ? policy.quarantineMs
      : restartDelay(crashes, policy.backoffInitialMs, policy.backoffMaxMs);
    this.state = quarantine ? "quarantined" : "crashed";
    this.retryAt = now + delay;
    const entry = {
      service: this.name,
      app: formatAppProtoId(this.appProtoId),
      reason,
      origin,
      crashes_in_window: crashes,
      ...(quarantine ? { quarantine_ms: delay } : { restart_in_ms: delay }),
    };
    if (quarantine) log.error(entry, "service quarantined after repeated crashes");
    else log.error(entry, "service crashed");
    this.timer = setTimeout(() => {
      // Out of quarantine the service gets a fresh crash budget.
      if (this.state === "quarantined") this.crashTimes = [];
      void this.restart();
    }, delay);
    this.timer.unref();
  }

  private async restart(): Promise<void> {
    if (this.state !== "crashed" && this.state !== "quarantined") return;
    this.state = "restarting";
    this.restarts++;
    this.deps.onRestart(this.name);
    await this.stopInstance();
    if (this.state !== "restarting") return; // stopped meanwhile
    await this.startInstance();
  }

  private async startInstance(): Promise<void> {
    const generation = ++this.generation;
    const controller = new AbortController();
    this.controller = controller;
    try {
      await withTimeout(
        Promise.resolve(
          this.service.start?.({
            signal: controller.signal,
            crash: (err) => this.crash(err, "reported", generation),
          }),
        ),
        this.deps.policy.startTimeoutMs,
        `start() of ${this.name}`,
      );
    } catch (err) {
      return this.crash(err, "start", generation);
    }
    if (this.state === "stopped") return this.stopInstance(); // shut down while starting: undo the start
    if (generation !== this.generation || (this.state !== "starting" && this.state !== "restarting")) return;
    const restarted = this.state === "restarting";
    this.state = "running";
    this.deps.bus.publish({ kind: "Health", service: this.name, ok: true });
    if (restarted) this.deps.log.info({ service: this.name, restarts: this.restarts }, "service restarted");
  }

  private async stopInstance(): Promise<void> {
    this.controller.abort();
    try {
      await withTimeout(
        Promise.resolve(this.service.stop?.()),
        this.deps.policy.startTimeoutMs,
        `stop() of ${this.name}`,
      );
    } catch (err) {
      this.deps.log.warn({ service: this.name, reason: describe(err) }, "service stop failed");
    }
  }

  private recentCrashes(now: number): number[] {
    return this.crashTimes.filter((t) => now - t < this.deps.policy.crashWindowMs);
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}

async function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}
