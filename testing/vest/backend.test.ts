/**
 * The Vest backend on its own: a real `serve()` backend called over OAP/1 with the SDK,
 * attached to a tenant capability minted with a random root key (the backend only narrows
 * it, never verifies it). Rooms are fixed and capped, every reply stays far inside a START
 * frame's meta, bad input is 400 (never 500), sessions are checked, and a rooms.json that
 * cannot be written is logged without taking the backend down.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { mintToken } from "@omnigate/caps";
import { loadTlsMaterial } from "@omnigate/node";
import { connect, type OapClient } from "@omnigate/sdk";
import { afterEach, describe, expect, it } from "vitest";
import {
  type BackendLogger,
  startVestBackend,
  type VestBackend,
  type VestBackendOptions,
  type VestTenantContext,
} from "../../apps/vest/src/backend/vest-backend.js";
import {
  DEFAULT_ROOMS,
  MAX_ROOM_MEMBERS,
  MAX_STORM_SECONDS,
  VEST_APP_ID,
} from "../../apps/vest/src/shared/protocol.js";
import { tempDir } from "../support/temp-dir.js";

const TENANT = 0x7e57n;
/** A START frame's meta holds 64 KiB; every reply must stay well inside it. */
const REPLY_BUDGET = 32 * 1024;

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface LogEntry {
  level: string;
  fields: Record<string, unknown>;
  message: string;
}

function recordingLogger(entries: LogEntry[]): BackendLogger {
  const at =
    (level: string) =>
    (fields: Record<string, unknown>, message: string): void => {
      entries.push({ level, fields, message });
    };
  return { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

interface Rig {
  backend: VestBackend;
  client: OapClient;
  dir: string;
  log: LogEntry[];
  call(meta: Record<string, unknown>): Promise<Record<string, unknown>>;
}

async function startRig(
  options: Partial<VestBackendOptions> = {},
  context: Partial<VestTenantContext> = {},
  dir = scopedDir(),
): Promise<Rig> {
  const tls = await loadTlsMaterial({ dataDir: join(dir, "tls"), cert: "", key: "" });
  const log: LogEntry[] = [];
  const backend = await startVestBackend({
    tls: { cert: tls.cert, key: tls.key },
    logger: recordingLogger(log),
    ...options,
  });
  cleanups.push(() => backend.close());
  backend.attach({
    tenantCap: mintToken({ rootKey: randomBytes(32), keyId: "test", tenant: TENANT }),
    tenant: TENANT,
    archive: { addr: `b3:${"0".repeat(64)}`, size: 1 },
    ...context,
  });
  const client = await connect(backend.server.url, { ca: readFileSync(tls.caFile as string, "utf8") });
  cleanups.push(() => client.close());
  const call = async (meta: Record<string, unknown>) =>
    (await client.request(VEST_APP_ID, { meta })).meta as Record<string, unknown>;
  return { backend, client, dir, log, call };
}

function scopedDir(): string {
  const dir = tempDir("vest-backend-");
  cleanups.push(dir.remove);
  return dir.path;
}

function bundleOf(i: number): string {
  return `b3:${i.toString(16).padStart(64, "0")}`;
}

/** Signs `name` in and returns its session. */
async function signin(rig: Rig, name: string): Promise<string> {
  return (await rig.call({ op: "signin", name })).session as string;
}

function metaBytes(meta: Record<string, unknown>): number {
  return Buffer.byteLength(JSON.stringify(meta));
}

describe("the Vest backend's rooms", () => {
  it("has only the configured rooms: joining or listing any other is 404, and sign-in lists just them", async () => {
    const rig = await startRig();
    const session = await signin(rig, "alice");
    for (let i = 0; i < 200; i++) {
      await expect(
        rig.call({ op: "join", session, room: `room-${i}`, bundle: bundleOf(1) }),
      ).rejects.toMatchObject({
        code: 404,
        reason: "not_found",
        message: expect.stringContaining("the rooms are harbour, lobby, summit"),
      });
    }
    await expect(rig.call({ op: "members", session, room: "room-1" })).rejects.toMatchObject({
      code: 404,
      reason: "not_found",
    });
    const reply = await rig.call({ op: "signin", name: "bob" });
    expect(reply.rooms).toEqual([...DEFAULT_ROOMS].sort());
    expect(metaBytes(reply)).toBeLessThan(4096);
  });

  it("takes its rooms from the rooms option", async () => {
    const rig = await startRig({ rooms: ["ops", "dev"] });
    const session = await signin(rig, "alice");
    expect((await rig.call({ op: "signin", name: "carol" })).rooms).toEqual(["dev", "ops"]);
    expect((await rig.call({ op: "join", session, room: "ops", bundle: bundleOf(1) })).members).toEqual([
      { user: "alice", bundle: bundleOf(1) },
    ]);
    await expect(rig.call({ op: "join", session, room: "lobby", bundle: bundleOf(1) })).rejects.toMatchObject(
      {
        code: 404,
        reason: "not_found",
      },
    );
  });

  it("refuses rooms options it could not serve", async () => {
    const tls = await loadTlsMaterial({ dataDir: scopedDir(), cert: "", key: "" });
    const start = (rooms: string[]) => startVestBackend({ tls: { cert: tls.cert, key: tls.key }, rooms });
    await expect(start([])).rejects.toThrow(/1 to 64 rooms/);
    await expect(start(["Lobby"])).rejects.toThrow(/room name "Lobby" is not valid/);
    await expect(start(["a", "a"])).rejects.toThrow(/named twice/);
  });

  it(`holds ${MAX_ROOM_MEMBERS} members a room: one more is 409, a member re-joins, and replies stay small`, async () => {
    const rig = await startRig();
    // Longest names: the worst case for the size of a full room's replies.
    const name = (i: number) => `u${String(i).padStart(23, "0")}`;
    const sessions: string[] = [];
    for (let i = 0; i < MAX_ROOM_MEMBERS + 1; i++) sessions.push(await signin(rig, name(i)));
    let last: Record<string, unknown> = {};
    for (let i = 0; i < MAX_ROOM_MEMBERS; i++) {
      last = await rig.call({ op: "join", session: sessions[i], room: "lobby", bundle: bundleOf(i) });
    }
    expect(last.members).toHaveLength(MAX_ROOM_MEMBERS);
    expect(metaBytes(last)).toBeLessThan(REPLY_BUDGET);

    const newcomer = sessions[MAX_ROOM_MEMBERS];
    await expect(
      rig.call({ op: "join", session: newcomer, room: "lobby", bundle: bundleOf(9999) }),
    ).rejects.toMatchObject({
      code: 409,
      reason: "conflict",
      message: expect.stringContaining(`room "lobby" is full (${MAX_ROOM_MEMBERS} members)`),
    });
    // Another room still takes the newcomer.
    expect(
      (await rig.call({ op: "join", session: newcomer, room: "harbour", bundle: bundleOf(1) })).members,
    ).toHaveLength(1);
    // A member already in the full room gets in again, with a new bundle too.
    const rejoined = await rig.call({
      op: "join",
      session: sessions[0],
      room: "lobby",
      bundle: bundleOf(7777),
    });
    expect(rejoined.members).toContainEqual({ user: name(0), bundle: bundleOf(7777) });
    expect(rejoined.members).toHaveLength(MAX_ROOM_MEMBERS);

    const members = await rig.call({ op: "members", session: sessions[1], room: "lobby" });
    expect(members.members).toHaveLength(MAX_ROOM_MEMBERS);
    expect(metaBytes(members)).toBeLessThan(REPLY_BUDGET);
    const signedIn = await rig.call({ op: "signin", name: "latecomer" });
    expect(metaBytes(signedIn)).toBeLessThan(4096);
  });
});

describe("the Vest backend's input checks", () => {
  it("answers malformed requests 400 bad_meta, never 500", async () => {
    const rig = await startRig();
    const session = await signin(rig, "alice");
    const bad: Array<Record<string, unknown>> = [
      {},
      { op: "nope" },
      { op: 7 },
      { op: "signin" },
      { op: "signin", name: 42 },
      { op: "signin", name: "Alice" },
      { op: "signin", name: "a".repeat(25) },
      { op: "signin", name: ["alice"] },
      { op: "join", session, room: "lobby" },
      { op: "join", session, room: "lobby", bundle: 5 },
      { op: "join", session, room: "lobby", bundle: "b3:xyz" },
      { op: "join", session, room: { name: "lobby" }, bundle: bundleOf(1) },
      { op: "join", session, bundle: bundleOf(1) },
      { op: "members", session },
      { op: "members", session, room: null },
      { op: "storm", session },
      { op: "storm", session, seconds: "5" },
    ];
    for (const meta of bad) {
      await expect(rig.call(meta), JSON.stringify(meta)).rejects.toMatchObject({
        code: 400,
        reason: "bad_meta",
      });
    }
  });

  it("answers a missing, forged or expired session 401", async () => {
    const rig = await startRig();
    const session = await signin(rig, "alice");
    const [user, expires, mac] = session.split(".") as [string, string, string];
    const forged = [
      undefined,
      7,
      "",
      "alice",
      `mallory.${expires}.${mac}`,
      `${user}.${Number(expires) + 1}.${mac}`,
      `${user}.${expires}.${mac.slice(0, -2)}AA`,
    ];
    for (const s of forged) {
      await expect(
        rig.call({ op: "join", session: s, room: "lobby", bundle: bundleOf(1) }),
        String(s),
      ).rejects.toMatchObject({ code: 401, reason: "unauthenticated" });
      await expect(rig.call({ op: "members", session: s, room: "lobby" })).rejects.toMatchObject({
        code: 401,
      });
    }

    // A backend whose sessions are over the moment they are issued.
    const expired = await startRig({ sessionSeconds: -60 });
    const old = await signin(expired, "alice");
    await expect(expired.call({ op: "members", session: old, room: "lobby" })).rejects.toMatchObject({
      code: 401,
      reason: "unauthenticated",
    });
  });
});

describe("the Vest backend's storm switch", () => {
  it(`takes 1 to ${MAX_STORM_SECONDS} s, runs one storm at a time, and close() aborts it`, async () => {
    const storms: Array<{ seconds: number; aborted: Promise<void> }> = [];
    const rig = await startRig(
      {},
      {
        // Stands in for stormVest: runs until its signal aborts.
        storm: (seconds, signal) => {
          const aborted = new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve()));
          storms.push({ seconds, aborted });
          return aborted;
        },
      },
    );
    const session = await signin(rig, "alice");
    for (const seconds of [0, -1, 1.5, MAX_STORM_SECONDS + 1, 60]) {
      await expect(rig.call({ op: "storm", session, seconds }), String(seconds)).rejects.toMatchObject({
        code: 400,
        reason: "bad_meta",
        message: `seconds must be an integer from 1 to ${MAX_STORM_SECONDS}`,
      });
    }
    expect(await rig.call({ op: "storm", session, seconds: MAX_STORM_SECONDS })).toEqual({
      started: true,
      seconds: MAX_STORM_SECONDS,
    });
    expect(await rig.call({ op: "storm", session, seconds: 1 })).toEqual({ started: false, running: true });
    expect(storms.map((s) => s.seconds)).toEqual([MAX_STORM_SECONDS]);

    // close() returns only once the running storm has stopped, which only its abort does.
    await rig.backend.close();
    await storms[0]?.aborted;
  });

  it("refuses the switch when no storm was attached", async () => {
    const rig = await startRig();
    const session = await signin(rig, "alice");
    await expect(rig.call({ op: "storm", session, seconds: 5 })).rejects.toMatchObject({
      code: 400,
      reason: "unsupported",
    });
  });
});

describe("the Vest backend's rooms.json", () => {
  it("logs a save that fails, keeps answering, and saves again on the next change", async () => {
    const dir = scopedDir();
    const roomsFile = join(dir, "rooms.json");
    const rig = await startRig({ roomsFile }, {}, dir);
    const alice = await signin(rig, "alice");
    const bob = await signin(rig, "bob");

    mkdirSync(roomsFile); // the save's rename cannot replace a directory
    await rig.call({ op: "join", session: alice, room: "lobby", bundle: bundleOf(1) });
    await rig.backend.rooms.flush();
    const failures = rig.log.filter((entry) => entry.level === "error");
    expect(failures).toHaveLength(1);
    expect(failures[0]?.fields.file).toBe(roomsFile);
    expect(failures[0]?.message).toMatch(/could not save the room directory/);
    expect((await rig.call({ op: "members", session: alice, room: "lobby" })).members).toHaveLength(1);

    rmdirSync(roomsFile);
    await rig.call({ op: "join", session: bob, room: "lobby", bundle: bundleOf(2) });
    await rig.backend.rooms.flush();
    expect(JSON.parse(readFileSync(roomsFile, "utf8")).lobby).toEqual({
      alice: bundleOf(1),
      bob: bundleOf(2),
    });
    expect(rig.log.filter((entry) => entry.level === "error")).toHaveLength(1);
  });

  it("restores saved members of configured rooms and leaves the rest out", async () => {
    const dir = scopedDir();
    const roomsFile = join(dir, "rooms.json");
    writeFileSync(roomsFile, JSON.stringify({ lobby: { alice: bundleOf(1) }, spam: { bob: bundleOf(2) } }));
    const rig = await startRig({ roomsFile }, {}, dir);
    const session = await signin(rig, "carol");
    expect((await rig.call({ op: "members", session, room: "lobby" })).members).toEqual([
      { user: "alice", bundle: bundleOf(1) },
    ]);
    expect((await rig.call({ op: "signin", name: "dave" })).rooms).toEqual([...DEFAULT_ROOMS].sort());
    expect(rig.log.some((entry) => entry.level === "warn" && entry.fields.room === "spam")).toBe(true);
  });

  it("refuses a damaged rooms.json with an error naming the file and the flaw", async () => {
    const dir = scopedDir();
    const roomsFile = join(dir, "rooms.json");
    const tls = await loadTlsMaterial({ dataDir: join(dir, "tls"), cert: "", key: "" });
    const cases: Array<[string, RegExp]> = [
      ["null", /expected an object of rooms.*got null/],
      ["[]", /expected an object of rooms.*got an array/],
      ['{"lobby": 3}', /room "lobby" must be an object of user → bundle address, got a number/],
      ['{"lobby": ["alice"]}', /room "lobby" must be an object.*got an array/],
      [
        '{"lobby": {"alice": 5}}',
        /room "lobby", user "alice": the bundle address must be a "b3:<64 hex>" string, got a number/,
      ],
      ['{"lobby": {"alice": null}}', /user "alice": the bundle address.*got null/],
      [`{"lobby": {"Not Valid": "${bundleOf(1)}"}}`, /member named "Not Valid"/],
      ["{", /not a room directory/],
    ];
    for (const [text, flaw] of cases) {
      writeFileSync(roomsFile, text);
      const error = await startVestBackend({ tls: { cert: tls.cert, key: tls.key }, roomsFile }).then(
        async (backend) => {
          await backend.close();
          return undefined;
        },
        (err: unknown) => err as Error,
      );
      expect(error, text).toBeInstanceOf(Error);
      expect(error?.message, text).toContain(roomsFile);
      expect(error?.message, text).toMatch(flaw);
      expect(error?.message, text).toMatch(/remove it to start with empty rooms/);
    }
  });
});
