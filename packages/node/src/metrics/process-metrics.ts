import { collectDefaultMetrics, Registry } from "prom-client";

let shared: Registry | undefined;

/**
 * prom-client's default process metrics (CPU, memory, event loop lag, GC, handles). They
 * describe the process, not a node, so every node in a process shares one registry: the
 * collectors (an event-loop monitor among them) are set up once, however many nodes start.
 */
export function processRegistry(): Registry {
  if (!shared) {
    shared = new Registry();
    collectDefaultMetrics({ register: shared });
  }
  return shared;
}
