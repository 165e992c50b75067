import { appendFile, mkdir, readFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { RevocationCheck } from "@omnigate/caps";

/** One revocation, as stored, served in diffs and sent between nodes. */
export type Revocation =
  | { seq: number; at: string; kind: "token"; token_id: string }
  /** Every token of `tenant` minted in an epoch below `epoch` is revoked. */
  | { seq: number; at: string; kind: "tenant_epoch"; tenant: string; epoch: number };

/** A revocation without the node-local sequence number: what another node sends. */
export type RevocationInput =
  | { kind: "token"; token_id: string }
  | { kind: "tenant_epoch"; tenant: string; epoch: number };

/**
 * Revoked token ids and tenant epochs, with a monotonically increasing `rev_seq` (returned
 * in HELLO; clients fetch the diff since the seq they know). Appended to a JSON-lines file
 * and replayed on start; memory only without a file.
 */
export class RevocationStore implements RevocationCheck {
  private readonly tokens = new Set<string>();
  /** tenant (hex) → lowest epoch still valid. */
  private readonly tenantEpochs = new Map<string, number>();
  private readonly log: Revocation[] = [];
  private readonly listeners = new Set<(r: Revocation) => void>();
  /** The appends to the file, in order; close waits for them. */
  private writing: Promise<void> = Promise.resolve();

  private constructor(
    private readonly file: string | undefined,
    private readonly now: () => number,
  ) {}

  static async open(file: string | undefined, now: () => number = Date.now): Promise<RevocationStore> {
    const store = new RevocationStore(file, now);
    if (file === undefined) return store;
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
    let text = "";
    try {
      text = await readFile(file, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
    for (const line of text.split("\n")) {
      // A torn last line (crash mid-append) is skipped; every complete line before it counts.
      if (line.trim() === "") continue;
      try {
        store.remember(JSON.parse(line) as Revocation);
      } catch {
        /* torn line */
      }
    }
    return store;
  }

  get seq(): number {
    return this.log.length === 0 ? 0 : (this.log[this.log.length - 1] as Revocation).seq;
  }

  isRevoked(token: { tokenId: string; tenant: bigint; epoch: number }): boolean {
    if (this.tokens.has(token.tokenId)) return true;
    if (this.tenantEpochs.size === 0) return false;
    const floor = this.tenantEpochs.get(tenantKey(token.tenant));
    return floor !== undefined && token.epoch < floor;
  }

  /** The epoch new tokens of `tenant` are minted in. */
  epochOf(tenant: bigint): number {
    return this.tenantEpochs.get(tenantKey(tenant)) ?? 0;
  }

  revokeToken(tokenId: string): Promise<Revocation | undefined> {
    return this.apply({ kind: "token", token_id: tokenId });
  }

  /** Revokes every token of `tenant` minted so far; new mints use the next epoch. */
  revokeTenant(tenant: bigint): Promise<Revocation | undefined> {
    return this.apply({ kind: "tenant_epoch", tenant: tenantKey(tenant), epoch: this.epochOf(tenant) + 1 });
  }

  /**
   * Records a revocation (local or from another node). Returns undefined when it changes
   * nothing (already revoked, or an older epoch), so relayed duplicates stop here.
   */
  async apply(input: RevocationInput): Promise<Revocation | undefined> {
    if (input.kind === "token" && this.tokens.has(input.token_id)) return undefined;
    if (input.kind === "tenant_epoch" && (this.tenantEpochs.get(input.tenant) ?? 0) >= input.epoch)
      return undefined;
    const revocation = { ...input, seq: this.seq + 1, at: new Date(this.now()).toISOString() } as Revocation;
    this.remember(revocation);
    const file = this.file;
    if (file !== undefined) {
      const write = this.writing.then(() =>
        appendFile(file, `${JSON.stringify(revocation)}\n`, { mode: 0o600 }),
      );
      this.writing = write.catch(() => {});
      await write;
    }
    for (const listener of this.listeners) listener(revocation);
    return revocation;
  }

  /** Resolves once every revocation applied so far is written (or failed to be). */
  flushed(): Promise<void> {
    return this.writing;
  }

  /** Revocations after `seq`, oldest first. */
  since(seq: number): Revocation[] {
    return this.log.filter((r) => r.seq > seq);
  }

  onRevoked(listener: (r: Revocation) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private remember(r: Revocation): void {
    if (r.kind === "token") this.tokens.add(r.token_id);
    else this.tenantEpochs.set(r.tenant, Math.max(r.epoch, this.tenantEpochs.get(r.tenant) ?? 0));
    this.log.push(r);
  }
}

export function tenantKey(tenant: bigint): string {
  return `0x${tenant.toString(16).padStart(32, "0")}`;
}
