import { rename, writeFile } from "node:fs/promises";
import { MAX_ROOM_MEMBERS, type RoomMember } from "../shared/protocol.js";
import { type RoomsSnapshot, readRoomsFile } from "./rooms-file.js";

/** Where the directory reports what it dropped on load and saves that failed (pino's fits). */
export interface RoomDirectoryLogger {
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

export interface RoomDirectoryOptions {
  /** The rooms there are; no other room can be joined. */
  rooms: readonly string[];
  /** Where the directory is saved; default: kept in memory only. */
  file?: string;
  /** Members a room holds at most (default MAX_ROOM_MEMBERS). */
  maxMembers?: number;
  logger?: RoomDirectoryLogger;
}

export type JoinOutcome =
  | { kind: "joined"; members: RoomMember[] }
  | { kind: "no_such_room" }
  | { kind: "full"; maxMembers: number };

/**
 * Who is in which room, and where each member's signed prekey bundle is stored. The backend
 * keeps only public material (bundle addresses); it is saved to a JSON file so a restarted
 * backend still knows its rooms. Only the configured rooms exist and each holds at most
 * `maxMembers`, so nothing a user does can grow a reply past a START frame's meta.
 */
export class RoomDirectory {
  private readonly rooms = new Map<string, Map<string, string>>();
  private readonly maxMembers: number;
  private readonly log: RoomDirectoryLogger | undefined;
  private saving: Promise<void> = Promise.resolve();

  constructor(private readonly options: RoomDirectoryOptions) {
    this.maxMembers = options.maxMembers ?? MAX_ROOM_MEMBERS;
    this.log = options.logger;
    for (const room of options.rooms) this.rooms.set(room, new Map());
    const saved = options.file ? readRoomsFile(options.file) : undefined;
    if (saved) this.restore(saved);
  }

  names(): string[] {
    return [...this.rooms.keys()].sort();
  }

  has(room: string): boolean {
    return this.rooms.has(room);
  }

  /** Adds (or updates) a member and its bundle; a member already in the room always gets in. */
  join(room: string, user: string, bundle: string): JoinOutcome {
    const members = this.rooms.get(room);
    if (!members) return { kind: "no_such_room" };
    if (!members.has(user) && members.size >= this.maxMembers) {
      return { kind: "full", maxMembers: this.maxMembers };
    }
    const changed = members.get(user) !== bundle;
    members.set(user, bundle);
    if (changed) this.save();
    return { kind: "joined", members: this.members(room) };
  }

  members(room: string): RoomMember[] {
    const members = this.rooms.get(room);
    if (!members) return [];
    return [...members]
      .map(([user, bundle]) => ({ user, bundle }))
      .sort((a, b) => a.user.localeCompare(b.user));
  }

  /** Resolves once every change so far was written, or failed and was logged; never rejects. */
  flush(): Promise<void> {
    return this.saving;
  }

  /** Keeps the saved members of configured rooms, up to the cap; says what it leaves out. */
  private restore(saved: RoomsSnapshot): void {
    for (const [room, members] of Object.entries(saved)) {
      const target = this.rooms.get(room);
      if (!target) {
        this.log?.warn({ file: this.options.file, room }, "a saved room is not configured: left out");
        continue;
      }
      const entries = Object.entries(members);
      for (const [user, bundle] of entries.slice(0, this.maxMembers)) target.set(user, bundle);
      if (entries.length > this.maxMembers) {
        this.log?.warn(
          { file: this.options.file, room, saved: entries.length, kept: this.maxMembers },
          "a saved room has more members than a room holds: the later ones are left out",
        );
      }
    }
  }

  private save(): void {
    const file = this.options.file;
    if (!file) return;
    const snapshot: RoomsSnapshot = {};
    for (const [room, members] of this.rooms) snapshot[room] = Object.fromEntries(members);
    // Chained so an older snapshot never lands after a newer one. A failed write is logged
    // and the chain goes on: the next change writes the whole directory again.
    this.saving = this.saving.then(async () => {
      const temp = `${file}.tmp`;
      try {
        await writeFile(temp, `${JSON.stringify(snapshot, null, 2)}\n`, { mode: 0o600 });
        await rename(temp, file);
      } catch (err) {
        this.log?.error(
          { err, file },
          "could not save the room directory; it is kept in memory and saved again on the next change",
        );
      }
    });
  }
}
