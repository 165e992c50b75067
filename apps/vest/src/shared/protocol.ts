/**
 * What the page and the Vest backend say to each other over OAP/1 (app 0x1001): one JSON
 * meta per request, op in `op`. Shared by both sides so a field cannot drift.
 */

/** The Vest app's id on the node ([[apps]] id in the node's config). */
export const VEST_APP_ID = 0x1001;
/** The node's storage and mailbox services. */
export const STORAGE_APP_ID = 0x0301;
export const MAILBOX_APP_ID = 0x0201;

/** User and room names: lower-case, short, and safe inside a mailbox topic. */
export const NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,23}$/;

/** A stored prekey bundle's address: what `join` takes and the room directory keeps. */
export const BUNDLE_ADDRESS_PATTERN = /^b3:[0-9a-f]{64}$/;

/**
 * The rooms a deployment has unless it configures its own: the only rooms there are (`join`
 * of any other answers 404), so no user can grow the sign-in reply.
 */
export const DEFAULT_ROOMS = ["lobby", "harbour", "summit"] as const;

/** At most this many rooms may be configured: their names all go into the sign-in reply. */
export const MAX_ROOMS = 64;

/**
 * Members a room holds at most; joining a full room is refused with 409 `conflict`. The
 * `join`/`members` reply lists every member (≤ ~115 bytes each), so a full room's reply
 * is ~30 KB, well inside a START frame's 64 KiB meta.
 */
export const MAX_ROOM_MEMBERS = 256;

/** The longest storm a page may ask for, seconds (the page's Storm button asks for this). */
export const MAX_STORM_SECONDS = 15;

/** A user's inbox in a room. */
export function inboxTopic(room: string, user: string): string {
  return `${userTopicPrefix(room, user)}in`;
}

/** The prefix of a user's own topics in a room: the only ones their receive capability opens. */
export function userTopicPrefix(room: string, user: string): string {
  return `${roomInboxPrefix(room)}${user}/`;
}

/** The prefix every inbox topic of a room starts with: the send capability's topics. */
export function roomInboxPrefix(room: string): string {
  return `vest/${room}/u/`;
}

/** `signin` → what a browser needs to use the rails itself. Capabilities are base64url. */
export interface SigninReply {
  user: string;
  /** Hex, e.g. "0x7e57": the tenant every capability below is bound to. */
  tenant: string;
  /** Proves the user to the backend on later calls (HMAC of name and expiry). */
  session: string;
  expiresAt: number;
  caps: {
    /** app 0x1001 only: join rooms, list members. */
    app: string;
    /**
     * storage.get/head (the map archive, bundles) and storage.put of any object into the
     * tenant's storage, up to the node's `storage.max_object_bytes` (a bundle is ~300 B).
     * Caveats cannot cap an object's size, so only the tenant's quotas bound it.
     */
    storage: string;
  };
  rooms: string[];
  archive: { addr: string; size: number };
}

/** `join` → the room's members (with their bundle addresses) and the room's capabilities. */
export interface JoinReply {
  room: string;
  members: RoomMember[];
  caps: {
    /** mailbox subscribe/ack/nack/recv on the user's own inbox in this room only. */
    inbox: string;
    /** mailbox send to any inbox of this room. */
    send: string;
  };
}

export interface RoomMember {
  user: string;
  /** b3:… of the user's signed prekey bundle in content-addressed storage. */
  bundle: string;
}

/** Meta of the requests the backend answers. */
export type VestRequest =
  | { op: "signin"; name: string }
  | { op: "join"; session: string; room: string; bundle: string }
  | { op: "members"; session: string; room: string }
  | { op: "storm"; session: string; seconds: number };

/** `/config.json`: what the page needs before anyone signs in (served by `npm run vest`). */
export interface PageConfig {
  /** wss://host:port/oap of the node. */
  wsUrl: string;
  /** Hex tenant id. */
  tenant: string;
  /** A guest capability (base64url): app 0x1001 only, to call sign-in. */
  guestCap: string;
}
