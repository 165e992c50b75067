/**
 * Capabilities for the soak clients, minted through the node's admin API (POST /v1/caps/mint
 * with the admin token from its data dir), and revoked on a schedule (POST /v1/caps/revoke)
 * so every client has to refresh: its next request gets 401 cap_revoked, the SDK calls the
 * client's capProvider (which mints a new token here) and sends the request once more.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";

export class CapMinter {
  private readonly adminToken: string;
  /** Token ids minted and not yet revoked. */
  private readonly live = new Set<string>();
  minted = 0;
  revoked = 0;

  constructor(
    private readonly adminUrl: string,
    dataDir: string,
    private readonly tenantHex: string,
    private readonly ttlS: number,
  ) {
    this.adminToken = readFileSync(join(dataDir, "auth", "admin.token"), "utf8").trim();
  }

  async mint(): Promise<string> {
    const res = await this.post("/v1/caps/mint", { tenant: this.tenantHex, ttl_s: this.ttlS });
    const body = (await res.json()) as { token: string; tokenId: string };
    this.live.add(body.tokenId);
    this.minted++;
    return body.token;
  }

  /** Revokes every token minted so far; returns how many. */
  async revokeAll(): Promise<number> {
    const ids = [...this.live];
    for (const id of ids) {
      await this.post("/v1/caps/revoke", { token_id: id });
      this.live.delete(id);
      this.revoked++;
    }
    return ids.length;
  }

  private async post(path: string, body: unknown): Promise<Response> {
    const res = await fetch(`${this.adminUrl}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${this.adminToken}` },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    if (res.status !== 200)
      throw new Error(`${path} answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
    return res;
  }
}
