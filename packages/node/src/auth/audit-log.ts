import { appendFile, mkdir } from "node:fs/promises";
import { dirname } from "node:path";

/** One audited capability action. Never holds a token, only its id. */
export interface AuditEntry {
  /** Who asked: "admin-api", "ronctl", "node" (first start), or a peer address. */
  who: string;
  what: "mint" | "rotate" | "revoke_token" | "revoke_tenant" | "create_root_key";
  key_id?: string;
  token_id?: string;
  tenant?: string;
  detail?: string;
}

/**
 * Append-only JSON lines (`<data dir>/auth/audit.jsonl`, mode 0600): one line per mint,
 * rotation and revocation, in order. Appends are serialized so lines never interleave.
 */
export class AuditLog {
  private tail: Promise<void> = Promise.resolve();

  constructor(
    private readonly file: string | undefined,
    private readonly now: () => number = Date.now,
  ) {}

  record(entry: AuditEntry): Promise<void> {
    const line = `${JSON.stringify({ at: new Date(this.now()).toISOString(), ...entry })}\n`;
    const file = this.file;
    if (file === undefined) return Promise.resolve();
    const write = this.tail.then(async () => {
      await mkdir(dirname(file), { recursive: true, mode: 0o700 });
      await appendFile(file, line, { mode: 0o600 });
    });
    // A failed append fails its own record, not the ones after it.
    this.tail = write.catch(() => {});
    return write;
  }

  /** Resolves once every line recorded so far is written (or failed to be). */
  flushed(): Promise<void> {
    return this.tail;
  }
}
