/**
 * CPU per request of the proxy hop with the scheduler taken out: client, node and echo backend
 * in one process (one event loop, so batches stay whole), direct echo (0x0101) against echo
 * through the backend (0x1001), same run. Complements run.ts, whose three processes on a
 * two-core machine mostly measure how small the batches get.
 *
 *   node --conditions=source --import tsx bench/oap-proxy/in-process.ts [--seconds 4] [--bodies 64,16384] [--inflight 64]
 *
 * stdout: one JSON line per result and one comparison line per (body, inflight) pair.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { loadTlsMaterial, startNode } from "@omnigate/node";
import { connect, serve } from "@omnigate/sdk";
import { closedLoop } from "../support/load.js";
import { round } from "../support/stats.js";

const { values: args } = parseArgs({
  options: {
    seconds: { type: "string", default: "4" },
    bodies: { type: "string", default: "64,16384" },
    inflight: { type: "string", default: "64" },
  },
});
const numbers = (value: string) => value.split(",").map(Number);

const dir = mkdtempSync(join(tmpdir(), "oap-proxy-cpu-"));
try {
  const tls = await loadTlsMaterial({ dataDir: join(dir, "backend"), cert: "", key: "" });
  const backend = await serve({
    appId: 0x1001,
    tls,
    handler: (req) => ({ body: req.completeBody() ?? req.body, e2e: req.e2e }),
  });
  const node = await startNode({
    overrides: {
      listen: "127.0.0.1:0",
      wsListen: "127.0.0.1:0",
      admin: "127.0.0.1:0",
      dataDir: join(dir, "node"),
      authMode: "off",
    },
    logLevel: "silent",
    apps: [{ id: 0x1001, name: "echo-backend", backend: backend.url, caFile: tls.caFile as string }],
  });
  const client = await connect(node.oapUrl, { ca: node.caPem });
  for (const bodyBytes of numbers(args.bodies)) {
    const body = randomBytes(bodyBytes);
    for (const inflight of numbers(args.inflight)) {
      const cpu: Record<string, number> = {};
      for (const [system, appId] of [
        ["direct", 0x0101],
        ["proxy", 0x1001],
      ] as const) {
        process.stderr.write(`oap-proxy-cpu: ${system}: ${bodyBytes} B, ${inflight} in flight\n`);
        const result = await closedLoop(
          {
            echo: async (b) => {
              const reply = await client.request(appId, { body: b });
              if (reply.body.byteLength !== b.byteLength) throw new Error("short echo");
            },
            close: async () => {},
          },
          { body, inflight, warmupMs: 1000, measureMs: Number(args.seconds) * 1000 },
        );
        cpu[system] = result.clientCpuUs ?? Number.NaN;
        const line = {
          bench: "oap-proxy-cpu",
          system,
          body_bytes: bodyBytes,
          inflight,
          requests: result.requests,
          rps: Math.round(result.rps),
          cpu_us: round(cpu[system] as number, 2),
        };
        process.stdout.write(`${JSON.stringify(line)}\n`);
      }
      const added = (cpu.proxy as number) - (cpu.direct as number);
      const line = {
        bench: "oap-proxy-cpu",
        compare: "proxy-direct",
        body_bytes: bodyBytes,
        inflight,
        cpu_added_us: round(added, 2),
      };
      process.stdout.write(`${JSON.stringify(line)}\n`);
    }
  }
  await client.close();
  await node.close();
  await backend.close(0);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
