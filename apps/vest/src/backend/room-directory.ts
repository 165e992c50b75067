import { readFileSync } from "node:fs";
import { rename, writeFile } from "node:fs/promises";
import type { RoomMember } from "../shared/protocol.js";

type Rooms = Record<string, Record<string, string>>;

/**
 * Who is in which room, and where each member's signed prekey bundle is stored. The backend
 * keeps only public material (bundle addresses); it is saved to a JSON file so a restarted
 * backend still knows its rooms.
 */
export class RoomDirectory {
  private readonly rooms = new Map<string, Map<string, string>>();
  private saving: Promise<void> = Promise.resolve();

  constructor(
    private readonly file: string | undefined,
    initialRooms: readonly string[],
  ) {
    for (const room of initialRooms) this.rooms.set(room, new Map());
    if (file) this.load(file);
  }

  names(): string[] {
    return [...this.rooms.keys()].sort();
  }

  has(room: string): boolean {
    return this.rooms.has(room);
  }

  /** Adds (or updates) a member and its bundle; opens the room when it is new. */
  join(room: string, user: string, bundle: string): RoomMember[] {
    let members = this.rooms.get(room);
    if (!members) {
      members = new Map();
      this.rooms.set(room, members);
    }
    const changed = members.get(user) !== bundle;
    members.set(user, bundle);
    if (changed) this.save();
    return this.members(room);
  }

  members(room: string): RoomMember[] {
    const members = this.rooms.get(room);
    if (!members) return [];
    return [...members]
      .map(([user, bundle]) => ({ user, bundle }))
      .sort((a, b) => a.user.localeCompare(b.user));
  }

  /** Resolves once every change so far is on disk. */
  flush(): Promise<void> {
    return this.saving;
  }

  private load(file: string): void {
    let parsed: Rooms;
    try {
      parsed = JSON.parse(readFileSync(file, "utf8")) as Rooms;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
      throw new Error(`${file}: not a room directory (${(err as Error).message}); remove it to start empty`);
    }
    for (const [room, members] of Object.entries(parsed)) {
      this.rooms.set(room, new Map(Object.entries(members)));
    }
  }

  private save(): void {
    const file = this.file;
    if (!file) return;
    const snapshot: Rooms = {};
    for (const [room, members] of this.rooms) snapshot[room] = Object.fromEntries(members);
    // Chained so an older snapshot never lands after a newer one.
    this.saving = this.saving.then(async () => {
      const temp = `${file}.tmp`;
      await writeFile(temp, `${JSON.stringify(snapshot, null, 2)}\n`, { mode: 0o600 });
      await rename(temp, file);
    });
  }
}
