import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { encodeFrame, encodeStartPayload, Flags } from "@omnigate/oap";
import { afterEach, describe, expect, it } from "vitest";
import { RawOapConnection } from "../../../testing/support/raw-oap.js";
import { tempDir } from "../../../testing/support/temp-dir.js";

const BIN = fileURLToPath(new URL("../src/bin/omnigate.ts", import.meta.url));
const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const children: ChildProcess[] = [];
const dirs: Array<{ remove: () => void }> = [];

afterEach(() => {
  for (const c of children.splice(0)) c.kill("SIGKILL");
  for (const d of dirs.splice(0)) d.remove();
});

function run(args: string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, ["--conditions=source", "--import", "tsx", BIN, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (d) => {
    stdout += d;
  });
  child.stderr?.on("data", (d) => {
    stderr += d;
  });
  return { child, out: () => stdout, err: () => stderr };
}

async function until(check: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("omnigate command", () => {
  it("starts, prints how to reach it, serves HELLO, and exits 0 on SIGTERM", async () => {
    const dir = tempDir();
    dirs.push(dir);
    const p = run(
      [
        "--listen",
        "127.0.0.1:0",
        "--ws-listen",
        "127.0.0.1:0",
        "--admin",
        "127.0.0.1:0",
        "--data-dir",
        dir.path,
      ],
      {
        OMNIGATE_LOG_LEVEL: "warn",
      },
    );
    await until(() => /Stop with Ctrl-C/.test(p.out()), "the banner");
    const url = /OAP\/1 over TLS\s+(oap\+tls:\/\/\S+)/.exec(p.out())?.[1];
    const caFile = /dev CA\s+(\S+)/.exec(p.out())?.[1];
    expect(url).toMatch(/^oap\+tls:\/\/127\.0\.0\.1:\d+$/);
    expect(caFile).toBe(`${dir.path}/tls/ca.pem`);
    expect(p.out()).toMatch(/CA SHA-256\s+([0-9A-F]{2}:){31}[0-9A-F]{2}/);

    const conn = await RawOapConnection.open(url as string, readFileSync(caFile as string, "utf8"));
    conn.write(
      encodeFrame({
        flags: Flags.REQ | Flags.START | Flags.END,
        appProtoId: 0,
        corrId: 1n,
        payload: encodeStartPayload({}),
      }),
    );
    const hello = await conn.waitFor((f) => f.corrId === 1n);
    expect(hello?.meta?.versions).toEqual([1]);
    conn.close();

    p.child.kill("SIGTERM");
    const [code] = await once(p.child, "exit");
    expect(code).toBe(0);
  });

  it("exits 2 with a clear message on a bad setting", async () => {
    const p = run(["--max-inflight", "zero"]);
    const [code] = await once(p.child, "exit");
    expect(code).toBe(2);
    expect(p.err()).toContain('invalid limits.max_inflight "zero" (from --max-inflight)');
  });

  it("exits 2 when the listen port is taken", async () => {
    const dir = tempDir();
    dirs.push(dir);
    const blocker = createServer().listen(0, "127.0.0.1");
    await once(blocker, "listening");
    const port = (blocker.address() as { port: number }).port;
    try {
      const p = run([
        "--listen",
        `127.0.0.1:${port}`,
        "--ws-listen",
        "127.0.0.1:0",
        "--admin",
        "127.0.0.1:0",
        "--data-dir",
        dir.path,
      ]);
      const [code] = await once(p.child, "exit");
      expect(code).toBe(2);
      expect(p.err()).toContain("EADDRINUSE");
    } finally {
      blocker.close();
    }
  });
});
