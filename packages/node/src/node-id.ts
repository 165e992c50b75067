import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";

/** A stable id for this node: generated once, kept in the data dir. */
export async function loadNodeId(dataDir: string): Promise<string> {
  const path = join(dataDir, "node_id");
  try {
    const id = (await readFile(path, "utf8")).trim();
    if (id) return id;
  } catch {
    // first start
  }
  const id = `og-${randomBytes(8).toString("hex")}`;
  await mkdir(dataDir, { recursive: true });
  await writeFile(path, `${id}\n`);
  return id;
}
