/**
 * Settlement records on disk: one JSON file per record under `<ledger dir>/records/`, written
 * to a temporary name, synced, then renamed, so a reader (the rewarder) never sees half a
 * record. The node's settlement key lives beside them, made on first start.
 */
import { randomBytes } from "node:crypto";
import { appendFile, mkdir, open, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  generateNodeKey,
  type NodeKey,
  nodeKeyFromPem,
  nodeKeyToPem,
  type SettlementRecord,
} from "@omnigate/ledger";

/** The file name of a record: epoch start, tenant, app — unique per node. */
export function recordFileName(record: Pick<SettlementRecord, "epoch_start" | "tenant" | "app">): string {
  return `${record.epoch_start}-${record.tenant}-${record.app.toString(16).padStart(4, "0")}.json`;
}

export async function writeRecord(dir: string, record: SettlementRecord): Promise<string> {
  const records = join(dir, "records");
  await mkdir(records, { recursive: true });
  const path = join(records, recordFileName(record));
  const temporary = join(records, `.${randomBytes(6).toString("hex")}.tmp`);
  const file = await open(temporary, "wx", 0o644);
  try {
    await file.writeFile(`${JSON.stringify(record)}\n`);
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(temporary, path);
  return path;
}

/** The node's settlement key from `<dir>/node-key.pem`, generated (mode 0600) on first start. */
export async function loadNodeKey(dir: string): Promise<NodeKey> {
  const path = join(dir, "node-key.pem");
  try {
    return nodeKeyFromPem(await readFile(path, "utf8"));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  await mkdir(dir, { recursive: true });
  const key = generateNodeKey();
  await writeFile(path, nodeKeyToPem(key), { mode: 0o600, flag: "wx" });
  return key;
}

/** The end (seconds) of the last period this node closed, so a restart never reopens it. */
export async function readLastPeriodEnd(dir: string): Promise<number> {
  try {
    const n = Number((await readFile(join(dir, "last_period_end"), "utf8")).trim());
    return Number.isSafeInteger(n) && n > 0 ? n : 0;
  } catch {
    return 0;
  }
}

export async function writeLastPeriodEnd(dir: string, end: number): Promise<void> {
  await mkdir(dir, { recursive: true });
  // Replaced whole (a torn file would read as 0 and let a restart reopen a closed period).
  const temporary = join(dir, `.last_period_end.${randomBytes(6).toString("hex")}.tmp`);
  await writeFile(temporary, `${end}\n`);
  await rename(temporary, join(dir, "last_period_end"));
}

/** With ledger.store = on: where each record went in storage, one JSON line per record. */
export async function appendStoredAddress(
  dir: string,
  entry: { file: string; tenant: string; addr: string },
): Promise<void> {
  await appendFile(join(dir, "stored.jsonl"), `${JSON.stringify(entry)}\n`);
}
