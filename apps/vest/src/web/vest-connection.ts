import { connect, type OapClient } from "@omnigate/sdk";
import {
  type JoinReply,
  type PageConfig,
  type RoomMember,
  type SigninReply,
  VEST_APP_ID,
} from "../shared/protocol.js";
import { BusyGate } from "./busy-gate.js";

/** Budget of one call to the Vest backend, retries for load included. */
const APP_CALL_BUDGET_MS = 20_000;

/**
 * A signed-in user's connections to the node, one per capability: calls to the Vest
 * backend, storage (map + bundles), and per room the inbox and send rails. Each connection
 * carries only the narrow capability its rail needs.
 */
export class VestConnection {
  readonly appGate = new BusyGate("sign-in");
  /** Storage calls of the chat (bundles); the map has its own gate. */
  readonly storageGate = new BusyGate("keys");

  private constructor(
    readonly config: PageConfig,
    readonly signin: SigninReply,
    readonly app: OapClient,
    readonly storage: OapClient,
  ) {}

  static async signIn(config: PageConfig, name: string): Promise<VestConnection> {
    const tenant = BigInt(config.tenant);
    const guest = await connect(config.wsUrl, { cap: config.guestCap, tenant });
    let signin: SigninReply;
    try {
      signin = await new BusyGate("sign-in").run(async () => {
        const res = await guest.request(VEST_APP_ID, { meta: { op: "signin", name } });
        return res.meta as unknown as SigninReply;
      }, APP_CALL_BUDGET_MS);
    } finally {
      await guest.close();
    }
    const [app, storage] = await Promise.all([
      connect(config.wsUrl, { cap: signin.caps.app, tenant }),
      connect(config.wsUrl, { cap: signin.caps.storage, tenant }),
    ]);
    return new VestConnection(config, signin, app, storage);
  }

  get user(): string {
    return this.signin.user;
  }

  get tenant(): bigint {
    return BigInt(this.signin.tenant);
  }

  /** Joins (or re-joins) a room with the user's bundle address: members and the room's caps. */
  join(room: string, bundle: string): Promise<JoinReply> {
    return this.callApp({ op: "join", session: this.signin.session, room, bundle }) as Promise<JoinReply>;
  }

  async members(room: string): Promise<RoomMember[]> {
    const reply = (await this.callApp({ op: "members", session: this.signin.session, room })) as {
      members: RoomMember[];
    };
    return reply.members;
  }

  /** A connection bound to one of a room's capabilities. */
  openRail(cap: string): Promise<OapClient> {
    return connect(this.config.wsUrl, { cap, tenant: this.tenant });
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.app.close(), this.storage.close()]);
  }

  private async callApp(meta: Record<string, unknown>): Promise<unknown> {
    return this.appGate.run(
      async () => (await this.app.request(VEST_APP_ID, { meta })).meta,
      APP_CALL_BUDGET_MS,
    );
  }
}
