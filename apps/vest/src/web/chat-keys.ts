import { ChatIdentity, ChatSessions, type PublicBundle, verifyBundle } from "../crypto/index.js";
import type { ChatStore } from "./chat-store.js";
import type { VestConnection } from "./vest-connection.js";

/** Budget of one bundle read or write, retries for load included. */
const BUNDLE_BUDGET_MS = 30_000;

/**
 * A user's keys and ratchet sessions, and the bundles of the people they talk to. The
 * identity is made in the browser on first sign-in and kept in the page's storage; the
 * public bundle is stored in content-addressed storage, so its address names exactly it.
 */
export class ChatKeys {
  readonly identity: ChatIdentity;
  readonly sessions: ChatSessions;
  private readonly bundles = new Map<string, Promise<PublicBundle>>();
  private ownBundle: Promise<string> | undefined;

  /** Called when a peer's identity key differs from the one seen before. */
  onIdentityChange: (user: string) => void = () => {};

  constructor(
    private readonly conn: VestConnection,
    private readonly store: ChatStore,
  ) {
    const saved = store.loadIdentity();
    if (saved) {
      this.identity = ChatIdentity.fromJSON(saved);
    } else {
      this.identity = ChatIdentity.create(conn.user);
      store.saveIdentity(this.identity.toJSON());
    }
    this.sessions = new ChatSessions(this.identity, store.loadSessions());
  }

  /** Stores the user's bundle (idempotent: same bytes, same address) and returns its address. */
  publishBundle(): Promise<string> {
    this.ownBundle ??= this.conn.storageGate
      .run(async () => {
        const put = await this.conn.storage.storage.put(JSON.stringify(this.identity.bundle()));
        return put.addr;
      }, BUNDLE_BUDGET_MS)
      .catch((err: unknown) => {
        this.ownBundle = undefined;
        throw err;
      });
    return this.ownBundle;
  }

  /**
   * The verified bundle of `user` at `addr`: BLAKE3 checked by the SDK against the address,
   * signature checked here, and the name inside must be the member's. Cached per address.
   */
  bundleAt(user: string, addr: string): Promise<PublicBundle> {
    const key = `${user}\u0000${addr}`;
    let bundle = this.bundles.get(key);
    if (!bundle) {
      bundle = this.fetchBundle(user, addr);
      bundle.catch(() => this.bundles.delete(key));
      this.bundles.set(key, bundle);
    }
    return bundle;
  }

  /** The safety number of this user and `peer`: the same on both sides when no one is in between. */
  safetyNumber(peer: PublicBundle): string {
    return this.identity.safetyNumber(peer);
  }

  /** Saves the ratchet state: after every seal and open, before the message goes or is acked. */
  persist(): void {
    this.store.saveSessions(this.sessions.toJSON());
  }

  private async fetchBundle(user: string, addr: string): Promise<PublicBundle> {
    const bytes = await this.conn.storageGate.run(
      () => this.conn.storage.storage.getBytes(addr as `b3:${string}`),
      BUNDLE_BUDGET_MS,
    );
    const bundle = verifyBundle(JSON.parse(new TextDecoder().decode(bytes)));
    if (bundle.user !== user) throw new Error(`the bundle at ${addr} is ${bundle.user}'s, not ${user}'s`);
    const pinned = this.store.pinnedIdentity(user);
    if (pinned !== bundle.identitySign) {
      // A new browser or cleared storage makes new keys; so would an impostor. Say so.
      if (pinned !== undefined) this.onIdentityChange(user);
      this.store.pinIdentity(user, bundle.identitySign);
    }
    return bundle;
  }
}
