/**
 * A file of JSON lines, each appended and synced before the caller goes on: how the privacy
 * budget and the release history survive a crash. Reading gives the raw lines, so each owner
 * decides what a torn line means for it.
 */
import { appendFileSync, closeSync, fsyncSync, mkdirSync, openSync, readFileSync } from "node:fs";
import { dirname } from "node:path";

/** The file's lines (none if it does not exist yet); makes its directory. */
export function readLines(file: string): string[] {
  mkdirSync(dirname(file), { recursive: true });
  try {
    return readFileSync(file, "utf8").split("\n");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    return [];
  }
}

/** Appends `value` as one JSON line and syncs it to disk. */
export function appendSyncedLine(file: string, value: unknown): void {
  const fd = openSync(file, "a");
  try {
    appendFileSync(fd, `${JSON.stringify(value)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
