import { attenuateToken, type CaveatRule } from "@omnigate/caps";
import { MAILBOX_APP_ID, STORAGE_APP_ID, VEST_APP_ID } from "../shared/protocol.js";

/**
 * Narrows the tenant capability the backend holds into what one signed-in user may do. It
 * only ever adds caveats (the HMAC chain allows nothing else), so a user's token can never
 * do more than the backend's, and the backend never needs a root key.
 *
 * No `rps`/`bytes` caveats: the node meters those per token id, which every token narrowed
 * from one tenant capability shares, so they would cap all users together, not each. The
 * tenant's quotas on the node are what bound the app's traffic.
 */
export class UserCapIssuer {
  constructor(private readonly tenantCap: Uint8Array) {}

  /** Calls to the Vest backend itself (app 0x1001). */
  app(expiresAt: number): Uint8Array {
    return this.narrow([
      { kind: "apps", apps: [VEST_APP_ID] },
      { kind: "expires", at: expiresAt },
    ]);
  }

  /**
   * Map archive range reads, bundle reads, and PUTs: meant for the user's own bundle, but no
   * caveat can limit a PUT to that or cap its size, so any object in the tenant's storage.
   */
  storage(expiresAt: number): Uint8Array {
    return this.narrow([
      { kind: "apps", apps: [STORAGE_APP_ID] },
      { kind: "ops", ops: ["storage.get", "storage.head", "storage.put"] },
      { kind: "expires", at: expiresAt },
    ]);
  }

  /** Reading the user's own inbox in one room: nobody else's. */
  inbox(topicPrefix: string, expiresAt: number): Uint8Array {
    return this.narrow([
      { kind: "apps", apps: [MAILBOX_APP_ID] },
      {
        kind: "ops",
        ops: ["mailbox.subscribe", "mailbox.recv", "mailbox.ack", "mailbox.nack", "mailbox.extend"],
      },
      { kind: "topics", prefix: topicPrefix },
      { kind: "expires", at: expiresAt },
    ]);
  }

  /** Sending into any inbox of one room. */
  send(roomPrefix: string, expiresAt: number): Uint8Array {
    return this.narrow([
      { kind: "apps", apps: [MAILBOX_APP_ID] },
      { kind: "ops", ops: ["mailbox.send"] },
      { kind: "topics", prefix: roomPrefix },
      { kind: "expires", at: expiresAt },
    ]);
  }

  /** What a page may do before sign-in: call the backend (to sign in), briefly. */
  guest(expiresAt: number): Uint8Array {
    return this.app(expiresAt);
  }

  /** The storm's map scraper: tile range reads, straight into the tenant's storage quota. */
  stormStorage(expiresAt: number): Uint8Array {
    return this.narrow([
      { kind: "apps", apps: [STORAGE_APP_ID] },
      { kind: "ops", ops: ["storage.get"] },
      { kind: "expires", at: expiresAt },
    ]);
  }

  private narrow(rules: CaveatRule[]): Uint8Array {
    return attenuateToken(this.tenantCap, rules);
  }
}
