/**
 * The start sequence's edges: the page server survives request targets `new URL` cannot
 * take; a node already answering on Vest's admin port is used only when it is this
 * directory's node running exactly this start's config; and the node Vest starts does not
 * outlive the process that started it.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { connect as connectTcp } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadTlsMaterial } from "@omnigate/node";
import { connect } from "@omnigate/sdk";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { nodeAnswers } from "../../apps/vest/src/node-runner/admin-api.js";
import { writeNodeConfig } from "../../apps/vest/src/node-runner/node-config.js";
import { VEST_TENANT, type VestPorts } from "../../apps/vest/src/node-runner/vest-layout.js";
import { type PageConfig, VEST_APP_ID } from "../../apps/vest/src/shared/protocol.js";
import { type RunningVest, startVest } from "../../apps/vest/src/start-vest.js";
import { startWebServer } from "../../apps/vest/src/web-server/web-server.js";
import { freePort } from "../support/free-port.js";
import { tempDir } from "../support/temp-dir.js";

const NODE_PROCESS_MODULE = fileURLToPath(
  new URL("../../apps/vest/src/node-runner/node-process.ts", import.meta.url),
);
const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function scopedDir(): string {
  const dir = tempDir("vest-start-");
  cleanups.push(dir.remove);
  return dir.path;
}

/** Sends one request with `target` as is (HTTP clients would normalise it); the status line. */
function rawGet(port: number, target: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connectTcp(port, "127.0.0.1", () =>
      socket.end(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`),
    );
    let answer = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      answer += chunk;
    });
    socket.on("error", reject);
    socket.on("end", () => resolve(answer.split("\r\n")[0] ?? ""));
  });
}

describe("the page server", () => {
  it("answers 400 to targets that are not paths, 500 to a failure, and keeps serving", async () => {
    const logged: Array<{ level: string; fields: Record<string, unknown> }> = [];
    let failing = false;
    const web = await startWebServer({
      host: "127.0.0.1",
      port: 0,
      pageConfig: (): PageConfig => {
        if (failing) throw new Error("config broke");
        return { wsUrl: "wss://127.0.0.1:9/oap", tenant: "0x7e57", guestCap: "guest" };
      },
      logger: {
        warn: (fields) => logged.push({ level: "warn", fields }),
        error: (fields) => logged.push({ level: "error", fields }),
      },
    });
    cleanups.push(() => web.close());

    for (const target of ["//", "///", "//a:b@", "//a:b@/x"]) {
      expect(await rawGet(web.port, target), target).toBe("HTTP/1.1 400 Bad Request");
    }
    expect(logged.filter((entry) => entry.level === "warn").map((entry) => entry.fields.target)).toEqual([
      "//",
      "///",
      "//a:b@",
      "//a:b@/x",
    ]);
    expect(await rawGet(web.port, "/")).toBe("HTTP/1.1 200 OK");

    failing = true;
    expect(await rawGet(web.port, "/config.json")).toBe("HTTP/1.1 500 Internal Server Error");
    expect(logged.some((entry) => entry.level === "error")).toBe(true);
    failing = false;

    const page = await fetch(web.url);
    expect(page.status).toBe(200);
    const csp = page.headers.get("content-security-policy") ?? "";
    for (const directive of ["frame-ancestors 'none'", "base-uri 'none'", "form-action 'self'"]) {
      expect(csp).toContain(directive);
    }
  });
});

describe("a node already running on Vest's admin port", () => {
  let dir: ReturnType<typeof tempDir>;
  let ports: VestPorts;
  let first: RunningVest | undefined;

  beforeAll(async () => {
    dir = tempDir("vest-reuse-");
    ports = {
      host: "127.0.0.1",
      oap: await freePort(),
      ws: await freePort(),
      admin: await freePort(),
      backend: await freePort(),
      web: await freePort(),
    };
    first = await startVest({ dir: dir.path, ports, maxZoom: 1 });
  }, 60_000);

  afterAll(async () => {
    await first?.stop();
    dir?.remove();
  });

  it("is refused when it runs another config, naming what differs", async () => {
    const error = await startVest({
      dir: dir.path,
      ports: { ...ports, backend: 0, web: 0 },
      maxZoom: 1,
    }).then(
      async (vest) => {
        await vest.stop();
        return undefined;
      },
      (err: unknown) => err as Error,
    );
    expect(error?.message).toMatch(/runs another config than this start needs/);
    expect(error?.message).toMatch(/the page's origin \(--web-port\): node\.toml has allowed_origins = /);
    expect(error?.message).toMatch(/the Vest backend: node\.toml has backend = /);
    expect(error?.message).toContain(`stop that node (its admin API is http://127.0.0.1:${ports.admin})`);
    // The refused start left the node it did not start alone.
    expect(await nodeAnswers(`http://127.0.0.1:${ports.admin}`)).toBe(true);
  });

  it("is refused when it is not the node of the Vest directory", async () => {
    await expect(
      startVest({ dir: scopedDir(), ports: { ...ports, backend: 0, web: 0 }, maxZoom: 1 }),
    ).rejects.toThrow(
      /a node answers at http:\/\/127\.0\.0\.1:\d+, but it is not the node of .*auth\/admin\.token/,
    );
  });

  it("is used when it runs exactly this start's config, and routes sign-in to the new backend", async () => {
    const running = first as RunningVest;
    // The first Vest's backend and page go (as when that process died); its node stays.
    await running.web.close();
    await running.backend.close();
    const second = await startVest({ dir: dir.path, ports, maxZoom: 1 });
    cleanups.push(() => second.stop());
    expect(second.node).toBeUndefined();

    const config = (await (await fetch(`${second.pageUrl}config.json`)).json()) as PageConfig;
    const client = await connect(second.oapUrl, {
      ca: second.caPem,
      cap: Buffer.from(config.guestCap, "base64url"),
      tenant: VEST_TENANT,
    });
    cleanups.push(() => client.close());
    const reply = await client.request(VEST_APP_ID, { meta: { op: "signin", name: "alice" } });
    expect(reply.meta).toMatchObject({ user: "alice", tenant: "0x7e57" });
  });
});

describe("the node Vest starts", () => {
  /** A process that starts a node with startNodeProcess, prints its admin URL, then idles. */
  async function parentWithNode(
    then: "idle" | "throw",
  ): Promise<{ parent: ChildProcess; adminUrl: string; log: string }> {
    const dir = scopedDir();
    const tls = await loadTlsMaterial({ dataDir: join(dir, "backend"), cert: "", key: "" });
    const configFile = join(dir, "node.toml");
    const log = join(dir, "node.log");
    await writeNodeConfig(configFile, {
      ports: { host: "127.0.0.1", oap: 0, ws: 0, admin: 0, backend: 9, web: 0 },
      dataDir: join(dir, "node"),
      backendCaFile: tls.caFile as string,
      origins: ["http://127.0.0.1:9"],
    });
    const script = `
      import { startNodeProcess } from ${JSON.stringify(NODE_PROCESS_MODULE)};
      const node = await startNodeProcess({ configFile: ${JSON.stringify(configFile)}, logFile: ${JSON.stringify(log)} });
      process.stdout.write(node.adminUrl + "\\n");
      ${then === "throw" ? 'process.stdin.once("data", () => { throw new Error("the parent fails"); });' : ""}
      setInterval(() => {}, 1000);
    `;
    const parent = spawn(
      process.execPath,
      ["--conditions=source", "--import", "tsx", "--input-type=module", "-e", script],
      { cwd: REPO_ROOT, stdio: ["pipe", "pipe", "pipe"] },
    );
    cleanups.push(() => {
      if (parent.exitCode === null && parent.signalCode === null) parent.kill("SIGKILL");
    });
    const adminUrl = await new Promise<string>((resolve, reject) => {
      let out = "";
      parent.stdout?.on("data", (chunk: Buffer) => {
        out += chunk.toString();
        const line = /^(http:\/\/\S+)\n/m.exec(out)?.[1];
        if (line) resolve(line);
      });
      parent.once("exit", (code) => reject(new Error(`the parent exited (${code}) before its node was up`)));
    });
    return { parent, adminUrl, log };
  }

  async function stopsByItself(adminUrl: string, log: string): Promise<void> {
    await vi.waitFor(async () => expect(await nodeAnswers(adminUrl)).toBe(false), {
      timeout: 20_000,
      interval: 100,
    });
    // It stopped as on Ctrl-C (drained), not killed, and its last lines reached its log.
    await vi.waitFor(() => expect(readFileSync(log, "utf8")).toMatch(/"msg":"stopped"/), {
      timeout: 20_000,
      interval: 100,
    });
  }

  it("stops when its parent is SIGKILLed", async () => {
    const { parent, adminUrl, log } = await parentWithNode("idle");
    expect(await nodeAnswers(adminUrl)).toBe(true);
    parent.kill("SIGKILL");
    await stopsByItself(adminUrl, log);
  }, 60_000);

  it("stops when its parent dies of an uncaught exception", async () => {
    const { parent, adminUrl, log } = await parentWithNode("throw");
    expect(await nodeAnswers(adminUrl)).toBe(true);
    const exited = new Promise<number | null>((resolve) => parent.once("exit", (code) => resolve(code)));
    parent.stdin?.write("go\n");
    expect(await exited).toBe(1);
    await stopsByItself(adminUrl, log);
  }, 60_000);
});
