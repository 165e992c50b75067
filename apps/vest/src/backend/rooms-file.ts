import { readFileSync } from "node:fs";
import { BUNDLE_ADDRESS_PATTERN, NAME_PATTERN } from "../shared/protocol.js";

/** room → user → bundle address, as `rooms.json` holds it. */
export type RoomsSnapshot = Record<string, Record<string, string>>;

/**
 * Reads a saved room directory; undefined when there is none yet. Anything else that is not
 * `{"<room>": {"<user>": "b3:…"}}` is refused with an Error naming the file and the flaw, so
 * a damaged file stops the backend with a message rather than a TypeError later.
 */
export function readRoomsFile(file: string): RoomsSnapshot | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw flawed(file, `not a room directory (${(err as Error).message})`);
  }
  if (!isPlainObject(parsed)) {
    throw flawed(file, `expected an object of rooms, {"<room>": {"<user>": "b3:…"}}, got ${kindOf(parsed)}`);
  }
  for (const [room, members] of Object.entries(parsed)) {
    if (!isPlainObject(members)) {
      throw flawed(
        file,
        `room ${JSON.stringify(room)} must be an object of user → bundle address, got ${kindOf(members)}`,
      );
    }
    for (const [user, bundle] of Object.entries(members)) {
      if (!NAME_PATTERN.test(user)) {
        throw flawed(
          file,
          `room ${JSON.stringify(room)} has a member named ${JSON.stringify(user)}, not a valid user name`,
        );
      }
      if (typeof bundle !== "string" || !BUNDLE_ADDRESS_PATTERN.test(bundle)) {
        throw flawed(
          file,
          `room ${JSON.stringify(room)}, user ${JSON.stringify(user)}: the bundle address must be a "b3:<64 hex>" string, got ${typeof bundle === "string" ? JSON.stringify(bundle) : kindOf(bundle)}`,
        );
      }
    }
  }
  return parsed as RoomsSnapshot;
}

function flawed(file: string, what: string): Error {
  return new Error(`${file}: ${what}; fix it, or remove it to start with empty rooms`);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}
