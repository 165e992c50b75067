import { OapError } from "@omnigate/oap";
import { type AppServer, type IncomingRequest, type Logger, serve } from "@omnigate/sdk";
import {
  BUNDLE_ADDRESS_PATTERN,
  DEFAULT_ROOMS,
  type JoinReply,
  MAX_ROOMS,
  MAX_STORM_SECONDS,
  NAME_PATTERN,
  roomInboxPrefix,
  type SigninReply,
  userTopicPrefix,
  VEST_APP_ID,
} from "../shared/protocol.js";
import { RoomDirectory } from "./room-directory.js";
import { SessionTokens } from "./session-tokens.js";
import { UserCapIssuer } from "./user-caps.js";

/** The SDK's logger plus info and error (pino's fits). */
export interface BackendLogger extends Logger {
  info(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

export interface VestBackendOptions {
  tls: { cert: string; key: string };
  host?: string;
  port?: number;
  /** How long a sign-in (and every capability it hands out) lasts, seconds. Default 12 h. */
  sessionSeconds?: number;
  /** Room directory file; default: kept in memory only. */
  roomsFile?: string;
  /** The rooms there are (default DEFAULT_ROOMS); `join` of any other answers 404. */
  rooms?: readonly string[];
  logger?: BackendLogger;
}

/** What the backend needs from the node before it can sign anyone in. */
export interface VestTenantContext {
  /** The tenant capability the backend narrows for each user (never a root key). */
  tenantCap: Uint8Array;
  tenant: bigint;
  /** Where the map archive is stored. */
  archive: { addr: string; size: number };
  /** Runs a storm for the page's storm switch, until done or `signal` aborts; absent = refused. */
  storm?: (seconds: number, signal: AbortSignal) => Promise<unknown>;
}

export interface VestBackend {
  server: AppServer;
  rooms: RoomDirectory;
  /** Hands the backend its tenant capability and the archive; until then calls get 503. */
  attach(context: VestTenantContext): UserCapIssuer;
  close(): Promise<void>;
}

/**
 * The Vest app backend (app 0x1001 behind the node): signs users in (dev mode: by name) and
 * hands each one capabilities narrowed from the tenant's; keeps the room directory of
 * public bundle addresses. It never sees a chat message: those go from page to node to page.
 */
export async function startVestBackend(options: VestBackendOptions): Promise<VestBackend> {
  const sessions = new SessionTokens();
  const log = options.logger;
  const rooms = new RoomDirectory({
    rooms: configuredRooms(options.rooms ?? DEFAULT_ROOMS),
    ...(options.roomsFile ? { file: options.roomsFile } : {}),
    ...(log ? { logger: log } : {}),
  });
  const sessionSeconds = options.sessionSeconds ?? 12 * 3600;
  let attached: { context: VestTenantContext; issuer: UserCapIssuer } | undefined;
  let storming: Promise<unknown> | undefined;
  // Aborted by close(): a storm must not outlive the backend that started it.
  const stormAbort = new AbortController();

  const signedInUser = (session: unknown, now: number): { user: string; expiresAt: number } => {
    const user = typeof session === "string" ? sessions.verify(session, now) : undefined;
    if (!user)
      throw new OapError("unauthenticated", "sign in again: the session is missing, forged or expired");
    return { user, expiresAt: Number(String(session).split(".")[1]) };
  };

  const handle = (req: IncomingRequest) => {
    if (!attached)
      throw new OapError("not_ready", "the Vest backend is still starting", { retryAfterMs: 500 });
    const { context, issuer } = attached;
    const meta = req.meta;
    const now = Math.floor(Date.now() / 1000);
    switch (meta.op) {
      case "signin": {
        const user = checkedName(meta.name, "name");
        const expiresAt = now + sessionSeconds;
        const reply: SigninReply = {
          user,
          tenant: `0x${context.tenant.toString(16)}`,
          session: sessions.issue(user, expiresAt),
          expiresAt,
          caps: { app: b64(issuer.app(expiresAt)), storage: b64(issuer.storage(expiresAt)) },
          rooms: rooms.names(),
          archive: context.archive,
        };
        log?.info({ event: "signin", user }, "user signed in");
        return { meta: reply as unknown as Record<string, unknown> };
      }
      case "join": {
        const { user, expiresAt } = signedInUser(meta.session, now);
        const room = checkedName(meta.room, "room");
        if (typeof meta.bundle !== "string" || !BUNDLE_ADDRESS_PATTERN.test(meta.bundle)) {
          throw new OapError("bad_meta", "bundle must be the b3: address of the user's stored prekey bundle");
        }
        const joined = rooms.join(room, user, meta.bundle);
        if (joined.kind === "no_such_room") throw noSuchRoom(room, rooms.names());
        if (joined.kind === "full") {
          throw new OapError(
            "conflict",
            `room "${room}" is full (${joined.maxMembers} members); join another room`,
          );
        }
        const members = joined.members;
        const reply: JoinReply = {
          room,
          members,
          caps: {
            inbox: b64(issuer.inbox(userTopicPrefix(room, user), expiresAt)),
            send: b64(issuer.send(roomInboxPrefix(room), expiresAt)),
          },
        };
        log?.info({ event: "join", user, room, members: members.length }, "user joined a room");
        return { meta: reply as unknown as Record<string, unknown> };
      }
      case "members": {
        signedInUser(meta.session, now);
        const room = checkedName(meta.room, "room");
        if (!rooms.has(room)) throw noSuchRoom(room, rooms.names());
        return { meta: { room, members: rooms.members(room) } };
      }
      case "storm": {
        const { user } = signedInUser(meta.session, now);
        const seconds = meta.seconds;
        if (
          typeof seconds !== "number" ||
          !Number.isInteger(seconds) ||
          seconds < 1 ||
          seconds > MAX_STORM_SECONDS
        ) {
          throw new OapError("bad_meta", `seconds must be an integer from 1 to ${MAX_STORM_SECONDS}`);
        }
        if (!context.storm) throw new OapError("unsupported", "this backend runs no storms");
        if (storming) return { meta: { started: false, running: true } };
        if (stormAbort.signal.aborted) throw new OapError("shutting_down", "the Vest backend is stopping");
        log?.info({ event: "storm", user, seconds }, "storm started from a page");
        storming = context
          .storm(seconds, stormAbort.signal)
          .then((report) => log?.info({ event: "storm_done", report }, "storm over"))
          .catch((err: unknown) => log?.warn({ err }, "storm failed"))
          .finally(() => {
            storming = undefined;
          });
        return { meta: { started: true, seconds } };
      }
      default:
        throw new OapError(
          "bad_meta",
          `unknown op ${JSON.stringify(meta.op)}; the Vest backend offers signin, join, members and storm`,
        );
    }
  };

  const server = await serve({
    appId: VEST_APP_ID,
    name: "vest",
    tls: options.tls,
    host: options.host ?? "127.0.0.1",
    port: options.port ?? 0,
    handler: handle,
    ...(log ? { logger: log } : {}),
  });
  return {
    server,
    rooms,
    attach(context) {
      const issuer = new UserCapIssuer(context.tenantCap);
      attached = { context, issuer };
      return issuer;
    },
    async close() {
      stormAbort.abort();
      await server.close(2_000);
      await storming;
      await rooms.flush();
    },
  };
}

/** The configured rooms, checked: they all go into every sign-in reply. */
function configuredRooms(names: readonly string[]): string[] {
  if (names.length === 0 || names.length > MAX_ROOMS) {
    throw new Error(`Vest needs 1 to ${MAX_ROOMS} rooms, got ${names.length}`);
  }
  for (const name of names) {
    if (!NAME_PATTERN.test(name)) {
      throw new Error(
        `room name ${JSON.stringify(name)} is not valid: 1–24 characters, lower-case letters, digits, "-" or "_"`,
      );
    }
  }
  if (new Set(names).size !== names.length) throw new Error(`a room is named twice in ${names.join(", ")}`);
  return [...names];
}

function noSuchRoom(room: string, names: string[]): OapError {
  return new OapError("not_found", `no room "${room}" here; the rooms are ${names.join(", ")}`);
}

function checkedName(value: unknown, what: string): string {
  if (typeof value !== "string" || !NAME_PATTERN.test(value)) {
    throw new OapError(
      "bad_meta",
      `${what} must be 1–24 characters: lower-case letters, digits, "-" or "_", starting with a letter or digit`,
    );
  }
  return value;
}

function b64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("base64url");
}
