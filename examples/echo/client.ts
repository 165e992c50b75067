/**
 * The smallest complete Omnigate client: connect, read the HELLO, one echo request, one
 * streamed echo, close.
 *
 *   npm start              # terminal 1: a node on 127.0.0.1:9443 with a dev CA
 *   npm run example:echo   # terminal 2: this file
 *
 * It finds the node as ronctl does: --node, else $RON_NODE_URL, else oap+tls://127.0.0.1:9443;
 * --ca-file, else $RON_CA_FILE, else (for a node on this machine) the dev CA `npm start` made
 * in its data dir, and likewise the dev capability unless $RON_CAP is set. `--app 0x1001`
 * calls the echo app backend (echo-backend.ts) through the node instead of the node's
 * built-in echo (0x0101); `--verbose` adds the stack trace to an error.
 */
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { flagNames, formatAppProtoId, type HelloReply } from "@omnigate/oap";
import { connect, DEFAULT_NODE_URL, NODE_URL_ENV, type OapClient, OapClientError } from "@omnigate/sdk";

const args = readArgs();
const nodeUrl = args.node || process.env[NODE_URL_ENV] || DEFAULT_NODE_URL;
const appId = Number.parseInt(args.app.replace(/^0x/i, ""), 16);
if (!Number.isInteger(appId) || appId < 0 || appId > 0xffff)
  fail(`--app ${args.app} is not an app_proto_id like 0x1001`);

async function main(): Promise<void> {
  // connect() resolves after TLS and the HELLO exchange, so the node's limits are known. With
  // no trust option it trusts a local node's dev CA rather than passing `insecure: true`,
  // which keeps the example honest about how real clients verify the node.
  const client = await connect(nodeUrl, args["ca-file"] ? { caFile: args["ca-file"] } : {});
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

function readArgs() {
  try {
    return parseArgs({
      options: {
        app: { type: "string", default: "0x0101" },
        node: { type: "string" },
        "ca-file": { type: "string" },
        verbose: { type: "boolean", default: false },
      },
    }).values;
  } catch (error) {
    fail((error as Error).message);
  }
}

function fail(message: string): never {
  console.error(`echo example: ${message}`);
  process.exit(1);
}

main().catch((error: unknown) => {
  // OapClientError carries the code, the canonical reason and what to do (hint).
  if (!(error instanceof Error)) fail(String(error));
  const why = error instanceof OapClientError ? ` (${error.code} ${error.reason})` : "";
  const hint = error instanceof OapClientError && error.hint ? `\n  hint: ${error.hint}` : "";
  // Two lines at most unless asked for more.
  const more = args.verbose
    ? `\n${error.stack}`
    : hint
      ? ""
      : "\n  (run again with --verbose for the details)";
  fail(`${error.message}${why}${hint}${more}`);
});
