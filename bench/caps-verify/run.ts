/**
 * Capability verification cost, in process: what the node's capability stage spends per
 * request on each path, against a baseline measured in the same run.
 *
 *   npm run bench:caps [-- --seconds 1]
 *
 * - `same-connection`: the token the connection used last, for the same request again (the
 *   common case: a client sends one capability and one op on every START): byte compare,
 *   then the connection's remembered grant;
 * - `same-connection-recheck`: that token, for requests whose topic changes every time: byte
 *   compare, then the per-request checks (key, revocation, time, tenant, app, op, topic);
 * - `cache-hit`: another token already verified: SHA-256 of the token, LRU lookup, checks;
 * - `cold`: a token never seen: parse, HMAC chain, caveat grammar, checks;
 * - `baseline`: a Map lookup and an object allocation, the floor of any per-request work.
 *
 * stdout: one JSON line per path (ns per request, verifications per second), then one
 * comparison line per path against the baseline measured in this run (`ratio`: the path's
 * verifications per second over the baseline's, higher is better), which the perf rig gates.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { decodeToken } from "@omnigate/caps";
import type { IncomingRequest } from "@omnigate/sdk";
import pino from "pino";
import { Authority } from "../../packages/node/src/auth/authority.js";
import { CapabilityStage } from "../../packages/node/src/auth/capability-stage.js";

const { values: args } = parseArgs({ options: { seconds: { type: "string", default: "1" } } });
const seconds = Number(args.seconds);
if (!(seconds > 0)) throw new Error("--seconds must be a positive number");

const dir = mkdtempSync(join(tmpdir(), "caps-bench-"));
const authority = await Authority.open({
  dir,
  nodeId: "bench",
  log: pino({ level: "silent" }),
  settings: { mode: "on", keyGraceMs: 60_000, skewSeconds: 60, redisUrl: "", devCapTtlSeconds: 86_400 },
});
const APP = 0x0201;
const mint = async () =>
  decodeToken(
    (
      await authority.mint(
        { tenant: 42n, apps: [APP], ops: ["mailbox.send"], topics: "chat/", ttlSeconds: 3600 },
        "bench",
      )
    ).token,
  );
const token = await mint();
const others = await Promise.all(Array.from({ length: 64 }, mint));
const stage = new CapabilityStage(authority, () => "mailbox");
const request = (cap: Uint8Array, topic = "chat/room-1", connection = newConnection()): IncomingRequest =>
  ({
    appProtoId: APP,
    tenantId: 42n,
    cap,
    meta: { op: "send", topic },
    startBodyBytes: 100,
    connection,
  }) as unknown as IncomingRequest;

function newConnection() {
  return { locals: new Map(), boundCap: undefined, onClose() {} };
}

const sameConnection = request(token);
const shared = newConnection();
const alternating = [request(token, "chat/room-1", shared), request(token, "chat/room-2", shared)];
const fresh = others.map((cap) => request(cap));
const baselineMap = new Map([["k", 1]]);
let sink = 0;
let i = 0;
const paths: Record<string, () => void> = {
  baseline: () => {
    sink += (baselineMap.get("k") ?? 0) + ({ a: i++ }.a & 1);
  },
  "same-connection": () => {
    stage.check(sameConnection, Date.now());
  },
  "same-connection-recheck": () => {
    stage.check(alternating[i++ & 1] as IncomingRequest, Date.now());
  },
  "cache-hit": () => {
    // A new connection each time (empty locals), so only the verifier's cache helps.
    const req = fresh[i++ % fresh.length] as IncomingRequest;
    req.connection.locals.clear();
    stage.check(req, Date.now());
  },
  cold: () => {
    authority.verifier.clearCache();
    const req = fresh[i++ % fresh.length] as IncomingRequest;
    req.connection.locals.clear();
    stage.check(req, Date.now());
  },
};

const nsOf = new Map<string, number>();
for (const [path, run] of Object.entries(paths)) {
  for (let w = 0; w < 2_000; w++) run(); // warm-up
  let n = 0;
  const start = process.hrtime.bigint();
  const until = start + BigInt(Math.round(seconds * 1e9));
  while (process.hrtime.bigint() < until) {
    for (let k = 0; k < 100; k++) run();
    n += 100;
  }
  const ns = Number(process.hrtime.bigint() - start) / n;
  nsOf.set(path, ns);
  process.stdout.write(
    `${JSON.stringify({ bench: "caps-verify", path, ns_per_request: Math.round(ns), per_second: Math.round(1e9 / ns) })}\n`,
  );
}
const floorNs = nsOf.get("baseline") as number;
for (const [path, ns] of nsOf) {
  if (path === "baseline") continue;
  process.stdout.write(
    `${JSON.stringify({ bench: "caps-verify", compare: `${path}/baseline`, ratio: Number((floorNs / ns).toPrecision(3)) })}\n`,
  );
}
if (sink < 0) process.stderr.write("unreachable\n");
await authority.close();
rmSync(dir, { recursive: true, force: true });
