import { readFile } from "node:fs/promises";
import { join } from "node:path";
import {
  type CapContext,
  CapError,
  CapVerifier,
  decodeToken,
  encodeToken,
  inspectToken,
  type MintOptions,
  mintToken,
  type VerifiedCap,
} from "@omnigate/caps";
import { OapError } from "@omnigate/oap";
import { writeAtomic } from "../fs/write-atomic.js";
import type { Logger } from "../log.js";
import { AuditLog } from "./audit-log.js";
import { RevocationRelay } from "./revocation-relay.js";
import { type Revocation, RevocationStore, tenantKey } from "./revocations.js";
import { RootKeyRing } from "./root-keys.js";

export interface AuthSettings {
  mode: "on" | "off";
  /** How long a rotated-out root key keeps verifying, in ms. */
  keyGraceMs: number;
  skewSeconds: number;
  /** Redis URL for sharing revocations between nodes; empty for none. */
  redisUrl: string;
  /** Lifetime of the dev capability made on first start, in seconds. */
  devCapTtlSeconds: number;
}

/** A token to mint: its tenant, the restrictions it carries, and a lifetime counted from now. */
export type MintSpec = Pick<MintOptions, "tenant" | "apps" | "ops" | "topics" | "rps" | "bytes"> & {
  ttlSeconds?: number;
};

export interface MintedCap {
  token: string;
  tokenId: string;
  keyId: string;
  tenant: string;
  epoch: number;
  expiresAt: number | undefined;
}

/**
 * Everything about capabilities on one node: the root key ring, the verifier and its
 * cache, revocations (local file, shared through Redis when configured) and the audit
 * log. With `mode = "off"` verify() lets everything through; nothing else changes.
 */
export class Authority {
  readonly verifier: CapVerifier;

  private constructor(
    readonly settings: AuthSettings,
    readonly keys: RootKeyRing,
    readonly revocations: RevocationStore,
    private readonly audit: AuditLog,
    private readonly relay: RevocationRelay | undefined,
    private readonly dir: string | undefined,
    private readonly now: () => number,
  ) {
    this.verifier = new CapVerifier({
      keys,
      revocations,
      skewSeconds: settings.skewSeconds,
      now: () => Math.floor(now() / 1000),
    });
  }

  /**
   * `dir` is `<data dir>/auth`; undefined keeps every key and revocation in memory only.
   * `rootKeysFile` replaces `<dir>/root-keys.json` (a ring the nodes of a cluster share).
   */
  static async open(opts: {
    dir: string | undefined;
    rootKeysFile?: string | undefined;
    nodeId: string;
    settings: AuthSettings;
    log: Logger;
    now?: () => number;
  }): Promise<Authority> {
    const now = opts.now ?? Date.now;
    // An empty file setting means the default (undefined takes open()'s default parameter).
    const { ring, created } = await RootKeyRing.open(opts.dir, now, opts.rootKeysFile || undefined);
    const audit = new AuditLog(opts.dir === undefined ? undefined : join(opts.dir, "audit.jsonl"), now);
    if (created) await audit.record({ who: "node", what: "create_root_key", key_id: ring.current().id });
    const store = await RevocationStore.open(
      opts.dir === undefined ? undefined : join(opts.dir, "revocations.jsonl"),
      now,
    );
    const relay = opts.settings.redisUrl
      ? await RevocationRelay.start(opts.settings.redisUrl, opts.nodeId, store, opts.log)
      : undefined;
    return new Authority(opts.settings, ring, store, audit, relay, opts.dir, now);
  }

  get enabled(): boolean {
    return this.settings.mode === "on";
  }

  get revSeq(): number {
    return this.revocations.seq;
  }

  /**
   * Checks a request's capability; throws the OapError (401/403/413) to refuse it with. `atMs`
   * is the request's time (Date.now() units) when the caller has it; else the clock is read.
   */
  verify(cap: Uint8Array | undefined, ctx: CapContext, atMs?: number): VerifiedCap | undefined {
    if (!this.enabled) return undefined;
    try {
      return this.verifier.verify(cap, ctx, atMs);
    } catch (err) {
      if (err instanceof CapError) throw new OapError(err.reason, err.message);
      throw err;
    }
  }

  /**
   * Checks a capability presented in HELLO for binding to its connection: MAC, key,
   * revocation, time and tenant (apps, ops and topics are checked per request).
   */
  verifyBinding(cap: Uint8Array, tenant: bigint): VerifiedCap {
    try {
      const verified = this.verifier.authenticate(cap);
      this.verifier.checkIdentity(verified, tenant);
      return verified;
    } catch (err) {
      if (err instanceof CapError) throw new OapError(err.reason, err.message);
      throw err;
    }
  }

  /**
   * What a passed check of `cap` depends on, so a caller may skip the same check of
   * the same request shape until `until` (Date.now() units) while `keys` and `revocations`
   * stay unchanged: the token's expiry (with the allowed skew) and its root key's retirement.
   */
  grantWindow(cap: VerifiedCap): { until: number; keys: number; revocations: number } {
    const expiresAt =
      cap.expiresAt === undefined
        ? Number.POSITIVE_INFINITY
        : (cap.expiresAt + this.settings.skewSeconds) * 1000;
    return {
      until: Math.min(expiresAt, this.keys.validUntil(cap.keyId)),
      keys: this.keys.version,
      revocations: this.revocations.seq,
    };
  }

  /** True while nothing a grantWindow() depends on has changed (see there). */
  grantStands(window: { keys: number; revocations: number }): boolean {
    return window.keys === this.keys.version && window.revocations === this.revocations.seq;
  }

  /** The per-request checks for a token already verified (e.g. earlier on the same connection). */
  authorize(cap: VerifiedCap, ctx: CapContext, atMs?: number): void {
    try {
      this.verifier.authorize(cap, ctx, atMs);
    } catch (err) {
      if (err instanceof CapError) throw new OapError(err.reason, err.message);
      throw err;
    }
  }

  async mint(spec: MintSpec, who: string): Promise<MintedCap> {
    const { id: keyId, key } = this.keys.current();
    const epoch = this.revocations.epochOf(spec.tenant);
    const expiresAt =
      spec.ttlSeconds === undefined ? undefined : Math.floor(this.now() / 1000) + spec.ttlSeconds;
    const token = mintToken({
      rootKey: key,
      keyId,
      tenant: spec.tenant,
      epoch,
      ...(spec.apps ? { apps: spec.apps } : {}),
      ...(spec.ops ? { ops: spec.ops } : {}),
      ...(spec.topics !== undefined ? { topics: spec.topics } : {}),
      ...(expiresAt !== undefined ? { expiresAt } : {}),
      ...(spec.rps !== undefined ? { rps: spec.rps } : {}),
      ...(spec.bytes !== undefined ? { bytes: spec.bytes } : {}),
    });
    const { tokenId } = inspectToken(token);
    await this.audit.record({
      who,
      what: "mint",
      key_id: keyId,
      token_id: tokenId,
      tenant: tenantKey(spec.tenant),
    });
    return { token: encodeToken(token), tokenId, keyId, tenant: tenantKey(spec.tenant), epoch, expiresAt };
  }

  async rotate(who: string): Promise<{ id: string; retiring: string; retiresAt: string }> {
    const rotated = await this.keys.rotate(this.settings.keyGraceMs);
    await this.audit.record({
      who,
      what: "rotate",
      key_id: rotated.id,
      detail: `${rotated.retiring} retires at ${rotated.retiresAt}`,
    });
    return rotated;
  }

  async revokeToken(tokenId: string, who: string): Promise<Revocation | undefined> {
    const revoked = await this.revocations.revokeToken(tokenId);
    await this.audit.record({ who, what: "revoke_token", token_id: tokenId });
    if (revoked) await this.relay?.publish({ kind: "token", token_id: tokenId });
    return revoked;
  }

  async revokeTenant(tenant: bigint, who: string): Promise<Revocation | undefined> {
    const revoked = await this.revocations.revokeTenant(tenant);
    await this.audit.record({ who, what: "revoke_tenant", tenant: tenantKey(tenant) });
    if (revoked?.kind === "tenant_epoch") {
      await this.relay?.publish({ kind: "tenant_epoch", tenant: revoked.tenant, epoch: revoked.epoch });
    }
    return revoked;
  }

  /**
   * The capability `npm start` prints: tenant 0 (the SDK's default), every app and op, valid
   * for `devCapTtlSeconds`. Kept in `<auth dir>/dev.cap` (0600) and re-minted when it no
   * longer verifies (expired, revoked, key retired).
   */
  async devCapability(): Promise<{ token: string; minted: boolean; path: string | undefined }> {
    const path = this.dir === undefined ? undefined : join(this.dir, "dev.cap");
    if (path !== undefined) {
      const existing = await readFile(path, "utf8").catch(() => undefined);
      if (existing !== undefined && this.stillValid(existing))
        return { token: existing.trim(), minted: false, path };
    }
    const minted = await this.mint({ tenant: 0n, ttlSeconds: this.settings.devCapTtlSeconds }, "node");
    if (path !== undefined) await writeAtomic(path, `${minted.token}\n`, 0o600);
    return { token: minted.token, minted: true, path };
  }

  /** Stops the relay, then waits for the revocation and audit writes still on their way. */
  async close(): Promise<void> {
    await this.relay?.close();
    await this.revocations.flushed();
    await this.audit.flushed();
  }

  private stillValid(text: string): boolean {
    try {
      const cap = this.verifier.authenticate(decodeToken(text));
      this.verifier.authorize(cap, { tenant: cap.tenant, app: 0 });
      // Re-mint a week before expiry so a printed dev cap is not about to lapse.
      return cap.expiresAt === undefined || cap.expiresAt - Math.floor(this.now() / 1000) > 7 * 86_400;
    } catch {
      return false;
    }
  }
}
