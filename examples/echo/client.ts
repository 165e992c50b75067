/**
 * The smallest complete Omnigate client: connect, read the HELLO, one echo request, one
 * streamed echo, close.
 *
 *   npm start              # terminal 1: a node on 127.0.0.1:9443 with a dev CA
 *   npm run example:echo   # terminal 2: this file
 *
 * RON_NODE_URL and RON_CA_FILE point it at another node. `--app 0x1001` calls the echo app
 * backend (echo-backend.ts) through the node instead of the node's built-in echo (0x0101).
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { defaultDataDir } from "@omnigate/node";
import { flagNames, formatAppProtoId, type HelloReply } from "@omnigate/oap";
import { connect, type OapClient, OapClientError } from "@omnigate/sdk";

const nodeUrl = process.env.RON_NODE_URL || "oap+tls://127.0.0.1:9443";
// `npm start` creates a dev CA in the per-user data dir; trusting it (rather than passing
// `insecure: true`) keeps the example honest about how real clients verify the node.
const caFile = process.env.RON_CA_FILE || join(defaultDataDir(), "tls", "ca.pem");
// Every request carries a capability. RON_CAP if set, else the dev capability `npm start`
// keeps next to its keys (tenant 0, every app; what its banner prints).
const devCapFile = join(defaultDataDir(), "auth", "dev.cap");
const cap =
  process.env.RON_CAP || (existsSync(devCapFile) ? readFileSync(devCapFile, "utf8").trim() : undefined);
const { values: args } = parseArgs({ options: { app: { type: "string", default: "0x0101" } } });
const appId = Number.parseInt(args.app.replace(/^0x/i, ""), 16);
if (!Number.isInteger(appId) || appId < 0 || appId > 0xffff)
  fail(`--app ${args.app} is not an app_proto_id like 0x1001`);

async function main(): Promise<void> {
  if (!existsSync(caFile)) {
    fail(`no CA certificate at ${caFile}: start a node first with npm start, or set RON_CA_FILE`);
  }

  // connect() resolves after TLS and the HELLO exchange, so the node's limits are known.
  const client = await connect(nodeUrl, { caFile, ...(cap ? { cap } : {}) }).catch((error: unknown) =>
    fail(connectFailure(error)),
  );
  try {
    printHello(nodeUrl, client.hello);
    await echoOnce(client);
    await echoStreamed(client);
  } finally {
    await client.close();
  }
}

/** One request, one response: meta and body go out together and come back as one value. */
async function echoOnce(client: OapClient): Promise<void> {
  const started = performance.now();
  const reply = await client.request(appId, {
    meta: { greeting: "hello", sent_at: new Date().toISOString() },
    body: "Hello, Omnigate!",
  });
  const ms = performance.now() - started;
  console.log(`\nrequest  → ${reply.code} in ${ms.toFixed(2)} ms`);
  console.log(`  meta   ${JSON.stringify(reply.meta)}`);
  console.log(`  body   ${JSON.stringify(reply.body.toString("utf8"))}`);
}

/**
 * A stream: the body goes out in pieces and the echo service answers each piece as it
 * arrives, so sending and receiving run at the same time.
 */
async function echoStreamed(client: OapClient): Promise<void> {
  const pieces = ["one ", "two ", "three ", "four"];
  const started = performance.now();
  const elapsed = () => `${(performance.now() - started).toFixed(2).padStart(7)} ms`;
  const stream = client.stream(appId, { meta: { example: "stream" } });

  const send = async () => {
    for (const [i, piece] of pieces.entries()) {
      // A pause between writes makes it visible that each piece is echoed on its own.
      if (i > 0) await sleep(50);
      await stream.write(piece);
    }
    await stream.end();
  };
  const receive = async () => {
    const head = await stream.response;
    console.log(`\nstream   → ${head.code}, meta ${JSON.stringify(head.meta)}`);
    for await (const chunk of stream) {
      console.log(`  ${elapsed()}  ${JSON.stringify(chunk.toString("utf8"))}`);
    }
  };
  // Both sides at once; Promise.all also surfaces an error from either.
  await Promise.all([send(), receive()]);
  console.log(`  ${elapsed()}  end (${pieces.length} pieces echoed)`);
}

function printHello(url: string, hello: HelloReply): void {
  const services = hello.services.map((s) => `${formatAppProtoId(s.app_proto_id)} ${s.name}`);
  const rows: Array<[string, string]> = [
    ["node", hello.node_id],
    ["versions", hello.versions.map((v) => `OAP/${v}`).join(", ")],
    ["transports", hello.transports.join(", ")],
    ["max frame", `${hello.max_frame} bytes`],
    ["max inflight", `${hello.max_inflight} streams per connection`],
    ["flags", flagNames(hello.flags_supported).join(" ")],
    ["services", services.join(", ")],
    ["deadline", `${hello.limits.default_deadline_ms} ms for requests that name none`],
  ];
  console.log(`connected to ${url}`);
  for (const [name, value] of rows) console.log(`  ${name.padEnd(13)}${value}`);
}

/** What to tell the user: an untrusted certificate and an absent node need different fixes. */
function connectFailure(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof OapClientError && error.reason === "tls_untrusted") {
    return `the certificate of the node at ${nodeUrl} was not issued by ${caFile}; set RON_CA_FILE to the dev CA its banner shows\n  (${message})`;
  }
  return `cannot reach the node at ${nodeUrl}: ${message}\n  start one with npm start, or set RON_NODE_URL`;
}

function fail(message: string): never {
  console.error(`echo example: ${message}`);
  process.exit(1);
}

main().catch((error: unknown) => {
  // OapClientError carries the node's canonical reason; anything else is a bug worth a stack.
  if (error instanceof OapClientError) fail(`${error.reason} (${error.code}): ${error.message}`);
  throw error;
});
