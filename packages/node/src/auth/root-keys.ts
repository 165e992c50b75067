import { randomBytes } from "node:crypto";
import { mkdir, readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { KeySource } from "@omnigate/caps";
import { writeAtomic } from "../fs/write-atomic.js";

interface RootKeyRecord {
  id: string;
  /** base64url, 32 random bytes. */
  key: string;
  created_at: string;
  /** Set when a rotation replaced this key: valid until then, refused after. */
  retires_at?: string;
}

interface RootKeyFile {
  current: string;
  keys: RootKeyRecord[];
}

const FILE = "root-keys.json";

/**
 * The node's capability root keys, with ids, in `<data dir>/auth/root-keys.json` (mode
 * 0600). One key is current (new tokens are minted under it); a rotation makes a new key
 * current and keeps the old one valid for a grace period, after which tokens under it are
 * refused. Without a directory (amnesia, tests) keys live in memory only.
 */
export class RootKeyRing implements KeySource {
  /** Decoded keys with their retirement time: get() runs on every request. */
  private decoded = new Map<string, { key: Uint8Array; retiresAt: number }>();
  /** Counts changes to the ring, so a check remembered under one version is redone after a change. */
  private changes = 0;

  private constructor(
    private state: RootKeyFile,
    private readonly file: string | undefined,
    private readonly now: () => number,
  ) {
    this.index();
  }

  /**
   * Loads the ring, creating a first key when there is none. `created` says whether it did.
   * `file` names a ring kept elsewhere (`auth.root_keys_file`: one file the nodes of a cluster
   * share, so a capability minted by one verifies on all); by default it is `<dir>/root-keys.json`.
   */
  static async open(
    dir: string | undefined,
    now: () => number = Date.now,
    file: string | undefined = dir === undefined ? undefined : join(dir, FILE),
  ): Promise<{ ring: RootKeyRing; created: boolean }> {
    const existing = file === undefined ? undefined : await readRing(file);
    if (existing) return { ring: new RootKeyRing(existing, file, now), created: false };
    const first = newRecord("k1", now());
    const ring = new RootKeyRing({ current: first.id, keys: [first] }, file, now);
    if (file !== undefined) await mkdir(dirname(file), { recursive: true, mode: 0o700 });
    await ring.save();
    return { ring, created: true };
  }

  /**
   * The key for `id` while it is valid at `at` (now by default): current, or retiring but
   * inside its grace period.
   */
  get(id: string, at?: number): Uint8Array | undefined {
    const entry = this.decoded.get(id);
    // A time that is not a finite number would keep every key valid: read the clock instead.
    const now = at !== undefined && Number.isFinite(at) ? at : this.now();
    if (!entry || entry.retiresAt <= now) return undefined;
    return entry.key;
  }

  /** When the key `id` stops being valid (Date.now() units): Infinity while current, 0 if unknown. */
  validUntil(id: string): number {
    return this.decoded.get(id)?.retiresAt ?? 0;
  }

  /** Goes up with every change to the ring (a rotation). */
  get version(): number {
    return this.changes;
  }

  current(): { id: string; key: Uint8Array } {
    const key = this.get(this.state.current);
    if (!key) throw new Error(`current root key ${this.state.current} is missing from the ring`);
    return { id: this.state.current, key };
  }

  /** Key ids with their state, for `ronctl cap rotate` and the audit log. */
  list(): Array<{ id: string; current: boolean; createdAt: string; retiresAt: string | undefined }> {
    return this.state.keys.map((k) => ({
      id: k.id,
      current: k.id === this.state.current,
      createdAt: k.created_at,
      retiresAt: k.retires_at,
    }));
  }

  /**
   * Makes a new key current; the previous current key stays valid for `graceMs`. Keys whose
   * grace ended are dropped from the file.
   */
  async rotate(graceMs: number): Promise<{ id: string; retiring: string; retiresAt: string }> {
    const now = this.now();
    const retiring = this.state.current;
    const retiresAt = new Date(now + graceMs).toISOString();
    const nextNumber =
      Math.max(0, ...this.state.keys.map((k) => Number(/^k(\d+)$/.exec(k.id)?.[1] ?? 0))) + 1;
    const fresh = newRecord(`k${nextNumber}`, now);
    const keys = this.state.keys
      .filter((k) => k.retires_at === undefined || Date.parse(k.retires_at) > now)
      .map((k) => (k.id === retiring ? { ...k, retires_at: retiresAt } : k));
    this.state = { current: fresh.id, keys: [...keys, fresh] };
    this.index();
    await this.save();
    return { id: fresh.id, retiring, retiresAt };
  }

  private index(): void {
    this.changes++;
    this.decoded = new Map(
      this.state.keys.map((k) => [
        k.id,
        {
          key: new Uint8Array(Buffer.from(k.key, "base64url")),
          retiresAt: k.retires_at === undefined ? Number.POSITIVE_INFINITY : Date.parse(k.retires_at),
        },
      ]),
    );
  }

  private async save(): Promise<void> {
    if (this.file !== undefined)
      await writeAtomic(this.file, `${JSON.stringify(this.state, null, 2)}\n`, 0o600);
  }
}

function newRecord(id: string, now: number): RootKeyRecord {
  return { id, key: randomBytes(32).toString("base64url"), created_at: new Date(now).toISOString() };
}

async function readRing(file: string): Promise<RootKeyFile | undefined> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  const parsed = JSON.parse(text) as RootKeyFile;
  if (typeof parsed.current !== "string" || !Array.isArray(parsed.keys)) {
    throw new Error(`${file} is not a root key ring; move it away to start a new one`);
  }
  return parsed;
}
