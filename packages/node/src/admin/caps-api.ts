import { timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { CapError, decodeToken, inspectToken, parseAppId, parseTenant } from "@omnigate/caps";
import { OapError } from "@omnigate/oap";
import type { Authority, MintSpec } from "../auth/authority.js";
import { readCapped } from "../util/capped-body.js";

const MAX_BODY = 64 * 1024;
const WHO = "admin-api";

/** A request the API refuses, with the HTTP status and a message that says what to fix. */
class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The capability admin API under `/v1/caps/` on the admin port (what `ronctl cap` calls).
 * Every call needs `Authorization: Bearer <admin token>`; the token is made on first start
 * in `<data dir>/auth/admin.token` (mode 0600), so only whoever can read the data dir can
 * mint. Handles a request and returns true when the path is one of its own.
 */
export class CapsApi {
  constructor(
    private readonly authority: Authority,
    private readonly adminToken: string,
  ) {}

  handles(path: string): boolean {
    return path.startsWith("/v1/caps/");
  }

  async handle(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    query: URLSearchParams,
  ): Promise<void> {
    try {
      this.checkToken(req);
      send(res, 200, await this.route(req, path, query));
    } catch (err) {
      if (err instanceof ApiError) return send(res, err.status, { error: err.message });
      if (err instanceof CapError || err instanceof OapError) return send(res, 400, { error: err.message });
      send(res, 500, { error: "internal error" });
    }
  }

  private async route(req: IncomingMessage, path: string, query: URLSearchParams): Promise<unknown> {
    const route = `${req.method} ${path}`;
    switch (route) {
      case "POST /v1/caps/mint":
        return this.authority.mint(mintSpec(await readJson(req)), WHO);
      case "POST /v1/caps/rotate": {
        const r = await this.authority.rotate(WHO);
        return { key_id: r.id, retiring: r.retiring, retires_at: r.retiresAt };
      }
      case "POST /v1/caps/revoke": {
        const body = await readJson(req);
        if (typeof body.token_id === "string") await this.authority.revokeToken(body.token_id, WHO);
        else if (typeof body.tenant === "string")
          await this.authority.revokeTenant(parseTenant(body.tenant), WHO);
        else throw new ApiError(400, 'give "token_id" or "tenant"');
        return { rev_seq: this.authority.revSeq };
      }
      case "GET /v1/caps/revoked": {
        const since = Number(query.get("since") ?? "0");
        if (!Number.isSafeInteger(since) || since < 0)
          throw new ApiError(400, "since must be a rev_seq (integer ≥ 0)");
        return { rev_seq: this.authority.revSeq, revocations: this.authority.revocations.since(since) };
      }
      case "GET /v1/caps/keys":
        return { keys: this.authority.keys.list() };
      case "POST /v1/caps/verify":
        return this.verify(await readJson(req));
      default:
        throw new ApiError(404, `no ${route}; see docs/capabilities.md`);
    }
  }

  private verify(body: Record<string, unknown>): unknown {
    if (typeof body.token !== "string") throw new ApiError(400, 'give "token" (base64url)');
    const token = decodeToken(body.token);
    const seen = inspectToken(token);
    const tenant = typeof body.tenant === "string" ? parseTenant(body.tenant) : undefined;
    const app =
      typeof body.app === "string" || typeof body.app === "number" ? parseAppId(String(body.app)) : 0;
    try {
      const cap = this.authority.verifier.authenticate(token);
      this.authority.verifier.authorize(cap, {
        tenant: tenant ?? cap.tenant,
        app,
        ...(typeof body.op === "string" ? { op: body.op } : {}),
        ...(typeof body.topic === "string" ? { topic: body.topic } : {}),
      });
      return { ok: true, key_id: seen.keyId, token_id: seen.tokenId, caveats: seen.caveats };
    } catch (err) {
      if (err instanceof CapError)
        return { ok: false, reason: err.reason, message: err.message, caveats: seen.caveats };
      throw err;
    }
  }

  private checkToken(req: IncomingMessage): void {
    const given = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1] ?? "";
    const expected = Buffer.from(this.adminToken);
    const actual = Buffer.from(given);
    if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) {
      throw new ApiError(
        401,
        "missing or wrong admin token (Authorization: Bearer <data dir>/auth/admin.token)",
      );
    }
  }
}

function mintSpec(body: Record<string, unknown>): MintSpec {
  if (typeof body.tenant !== "string") throw new ApiError(400, 'give "tenant" as hex, e.g. "0x2a"');
  const spec: MintSpec = { tenant: parseTenant(body.tenant) };
  if (body.apps !== undefined) spec.apps = stringList(body.apps, "apps").map((a) => parseAppId(a));
  if (body.ops !== undefined) spec.ops = stringList(body.ops, "ops");
  if (body.topics !== undefined) {
    if (typeof body.topics !== "string") throw new ApiError(400, '"topics" is a prefix string');
    spec.topics = body.topics;
  }
  for (const key of ["ttl_s", "rps", "bytes"] as const) {
    const value = body[key];
    if (value === undefined) continue;
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
      throw new ApiError(400, `"${key}" must be a non-negative integer`);
    }
    if (key === "ttl_s") spec.ttlSeconds = value;
    else spec[key] = value;
  }
  return spec;
}

function stringList(value: unknown, name: string): string[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === "string")) {
    throw new ApiError(400, `"${name}" must be a list of strings`);
  }
  return value as string[];
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const body = await readCapped(
    req,
    MAX_BODY,
    () => new ApiError(413, `request body over ${MAX_BODY} bytes`),
  );
  if (body.byteLength === 0) return {};
  try {
    const parsed: unknown = JSON.parse(body.toString("utf8"));
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
      throw new Error("not an object");
    return parsed as Record<string, unknown>;
  } catch {
    throw new ApiError(400, "request body must be a JSON object");
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}
