import { chmod, rename, writeFile } from "node:fs/promises";

/** Writes a file so readers see the old or the new content, never a torn one. */
export async function writeAtomic(path: string, text: string, mode: number): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, text, { mode });
  await chmod(tmp, mode);
  await rename(tmp, path);
}
