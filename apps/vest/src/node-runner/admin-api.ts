import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { formatAppProtoId } from "@omnigate/oap";

/** A node's admin HTTP API, authorised by the admin token in its data dir. */
export class AdminApi {
  private constructor(
    readonly baseUrl: string,
    private readonly token: string,
  ) {}

  static async open(baseUrl: string, dataDir: string): Promise<AdminApi> {
    const tokenFile = join(dataDir, "auth", "admin.token");
    const token = (await readFile(tokenFile, "utf8")).trim();
    return new AdminApi(baseUrl, token);
  }

  /** Whether the node takes our admin token: it is the node of our data dir (GET /v1/caps/keys). */
  async tokenAccepted(): Promise<boolean> {
    const res = await fetch(`${this.baseUrl}/v1/caps/keys`, {
      headers: { authorization: `Bearer ${this.token}` },
      signal: AbortSignal.timeout(5_000),
    });
    await res.arrayBuffer();
    if (res.status === 401 || res.status === 403) return false;
    if (!res.ok) throw new Error(`the node at ${this.baseUrl} answered ${res.status} to GET /v1/caps/keys`);
    return true;
  }

  /** POST /v1/caps/mint: a tenant capability (base64url), never the root key. */
  async mintTenantCap(spec: { tenant: bigint; apps: number[]; ttlSeconds: number }): Promise<Uint8Array> {
    const res = await fetch(`${this.baseUrl}/v1/caps/mint`, {
      method: "POST",
      headers: { authorization: `Bearer ${this.token}`, "content-type": "application/json" },
      body: JSON.stringify({
        tenant: `0x${spec.tenant.toString(16)}`,
        apps: spec.apps.map(formatAppProtoId),
        ttl_s: spec.ttlSeconds,
      }),
    });
    const body = (await res.json()) as { token?: string; error?: string };
    if (!res.ok || typeof body.token !== "string") {
      throw new Error(
        `the node refused to mint the Vest tenant capability (${res.status}): ${body.error ?? "no token"}`,
      );
    }
    return Buffer.from(body.token, "base64url");
  }
}

/** GET <admin>/readyz answers: a node is there (ready or not). */
export async function nodeAnswers(adminUrl: string): Promise<boolean> {
  try {
    const res = await fetch(`${adminUrl}/readyz`, { signal: AbortSignal.timeout(1_000) });
    await res.arrayBuffer();
    return true;
  } catch {
    return false;
  }
}
