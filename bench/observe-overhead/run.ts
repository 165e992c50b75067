/**
 * What observing a request costs the node's hot path, in-process: the session hooks that
 * feed the metrics (observeSessions) and the supervisor's wrapper around a service,
 * against the same dispatch without them — and, for comparison, what the same updates cost
 * through prom-client's label API directly. One JSON line per variant on stdout, then one
 * comparison line per observed variant against `plain` from the same run (`ratio`: plain's ns
 * per request over the variant's, i.e. its requests per second over plain's; higher is better),
 * which the perf rig gates.
 *
 *   node --conditions=source --import tsx bench/observe-overhead/run.ts [--requests N]
 */
import type {
  IncomingRequest,
  ResponseWriter,
  Service,
  SessionHandler,
  StreamEndInfo,
} from "@omnigate/sdk/internal";
import pino from "pino";
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { KernelBus } from "../../packages/node/src/kernel/bus.js";
import { Supervisor } from "../../packages/node/src/kernel/supervisor.js";
import { NodeMetrics, observeSessions } from "../../packages/node/src/metrics/index.js";

const requestsArg = process.argv.indexOf("--requests");
const REQUESTS = requestsArg > 0 ? Number(process.argv[requestsArg + 1]) : 2_000_000;
const ROUNDS = 5;

const service: Service = { appProtoId: 0x0101, name: "echo", handle: (_req, res) => res.reply(200) };
const req = {
  corrId: 1n,
  appProtoId: 0x0101,
  tenantId: 7n,
  meta: {},
  peer: "127.0.0.1:5000",
} as IncomingRequest;
const res = { reply() {} } as unknown as ResponseWriter;
const info: StreamEndInfo = {
  corrId: 1n,
  appProtoId: 0x0101,
  tenantId: 7n,
  code: 200,
  startedAt: Date.now(),
  endedAt: Date.now(),
  reason: undefined,
  refused: false,
  bytesIn: 110,
  bytesOut: 110,
  peer: "127.0.0.1:5000",
  transport: "tls",
};

function plain(): SessionHandler {
  return { dispatch: (r, w) => service.handle(r, w), streamEnded: () => {} };
}

async function observed(): Promise<SessionHandler> {
  const log = pino({ level: "warn" }, { write() {} });
  const metrics = new NodeMetrics();
  metrics.registerApp(service.appProtoId);
  const bus = new KernelBus(16);
  const supervisor = new Supervisor({
    policy: {
      backoffInitialMs: 100,
      backoffMaxMs: 30_000,
      crashLimit: 5,
      crashWindowMs: 60_000,
      quarantineMs: 300_000,
      startTimeoutMs: 1_000,
    },
    bus,
    log,
    onRestart: () => {},
  });
  const supervised = supervisor.supervise(service);
  await supervisor.startAll();
  return observeSessions({ dispatch: (r, w) => supervised.handle(r, w) }, metrics, log);
}

/** The same updates through prom-client's label API, as a naive implementation would make them. */
function promClientDirect(): SessionHandler {
  const registers = [new Registry()];
  const requests = new Counter({ name: "r", help: "r", labelNames: ["app", "code"], registers });
  const bytesIn = new Counter({ name: "bi", help: "b", labelNames: ["app"], registers });
  const bytesOut = new Counter({ name: "bo", help: "b", labelNames: ["app"], registers });
  const inflight = new Gauge({ name: "i", help: "i", labelNames: ["app"], registers });
  const latency = new Histogram({ name: "l", help: "l", labelNames: ["app"], registers });
  return {
    dispatch(r, w) {
      inflight.inc({ app: "0x0101" });
      return service.handle(r, w);
    },
    streamEnded(i) {
      const app = "0x0101";
      inflight.dec({ app });
      requests.inc({ app, code: i.code });
      bytesIn.inc({ app }, i.bytesIn);
      bytesOut.inc({ app }, i.bytesOut);
      latency.observe({ app }, (i.endedAt - i.startedAt) / 1000);
    },
  };
}

function measure(handler: SessionHandler): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < REQUESTS; i++) {
    handler.dispatch(req, res);
    handler.streamEnded?.(info);
  }
  return Number(process.hrtime.bigint() - start) / REQUESTS;
}

const variants: Array<[string, SessionHandler]> = [
  ["plain", plain()],
  ["observed", await observed()],
  ["prom-client-direct", promClientDirect()],
];
const best = new Map<string, number>();
for (let round = 0; round < ROUNDS; round++) {
  process.stderr.write(`round ${round + 1}/${ROUNDS}\n`);
  for (const [name, handler] of variants) {
    const ns = measure(handler);
    best.set(name, Math.min(best.get(name) ?? Number.POSITIVE_INFINITY, ns));
  }
}
const baseline = best.get("plain") as number;
for (const [name, ns] of best) {
  const line = {
    bench: "observe-overhead",
    variant: name,
    requests: REQUESTS,
    ns_per_request: Number(ns.toFixed(1)),
    overhead_ns: Number((ns - baseline).toFixed(1)),
  };
  process.stdout.write(`${JSON.stringify(line)}\n`);
}
for (const [name, ns] of best) {
  if (name === "plain") continue;
  const line = {
    bench: "observe-overhead",
    compare: `${name}/plain`,
    // Significant digits, not decimals: some ratios are below 0.01.
    ratio: Number((baseline / ns).toPrecision(3)),
  };
  process.stdout.write(`${JSON.stringify(line)}\n`);
}
