/**
 * The JSON the node's capability admin API (`/v1/caps/` on the admin port) speaks, as
 * ronctl sees it. ronctl may not import the node, so the shapes are restated here and each
 * response is checked before use: a proxy or another service on the port gets a clear
 * error, not an undefined field.
 */

export interface MintRequest {
  /** u128 hex, e.g. "0x2a". */
  tenant: string;
  apps?: string[];
  ops?: string[];
  topics?: string;
  ttl_s?: number;
  rps?: number;
  bytes?: number;
}

export interface MintResponse {
  token: string;
  tokenId: string;
  keyId: string;
  tenant: string;
  epoch: number;
  /** Unix seconds; absent when the token never expires. */
  expiresAt?: number;
}

export interface RotateResponse {
  key_id: string;
  retiring: string;
  retires_at: string;
}

export type RevokeRequest = { token_id: string } | { tenant: string };

export interface RevokeResponse {
  rev_seq: number;
}

export type Revocation =
  | { seq: number; at: string; kind: "token"; token_id: string }
  /** Every token of `tenant` minted in an epoch below `epoch` is revoked. */
  | { seq: number; at: string; kind: "tenant_epoch"; tenant: string; epoch: number };

export interface RevokedResponse {
  rev_seq: number;
  revocations: Revocation[];
}

export interface RootKeyInfo {
  id: string;
  current: boolean;
  createdAt: string;
  retiresAt?: string;
}

export interface KeysResponse {
  keys: RootKeyInfo[];
}

export interface VerifyRequest {
  token: string;
  tenant?: string;
  app?: string;
  op?: string;
  topic?: string;
}

export type VerifyResponse =
  | { ok: true; key_id: string; token_id: string; caveats: string[] }
  | { ok: false; reason: string; message: string; caveats: string[] };

/** Checks that a decoded body has the fields a type needs. */
export type Shape<T> = (body: unknown) => body is T;

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const isString = (v: unknown): v is string => typeof v === "string";
const isInt = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v);
const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every(isString);

export const isMintResponse: Shape<MintResponse> = (b): b is MintResponse =>
  isRecord(b) &&
  isString(b.token) &&
  isString(b.tokenId) &&
  isString(b.keyId) &&
  isString(b.tenant) &&
  isInt(b.epoch) &&
  (b.expiresAt === undefined || isInt(b.expiresAt));

export const isRotateResponse: Shape<RotateResponse> = (b): b is RotateResponse =>
  isRecord(b) && isString(b.key_id) && isString(b.retiring) && isString(b.retires_at);

export const isRevokeResponse: Shape<RevokeResponse> = (b): b is RevokeResponse =>
  isRecord(b) && isInt(b.rev_seq);

const isRevocation = (r: unknown): r is Revocation =>
  isRecord(r) &&
  isInt(r.seq) &&
  isString(r.at) &&
  ((r.kind === "token" && isString(r.token_id)) ||
    (r.kind === "tenant_epoch" && isString(r.tenant) && isInt(r.epoch)));

export const isRevokedResponse: Shape<RevokedResponse> = (b): b is RevokedResponse =>
  isRecord(b) && isInt(b.rev_seq) && Array.isArray(b.revocations) && b.revocations.every(isRevocation);

const isKeyInfo = (k: unknown): k is RootKeyInfo =>
  isRecord(k) &&
  isString(k.id) &&
  typeof k.current === "boolean" &&
  isString(k.createdAt) &&
  (k.retiresAt === undefined || isString(k.retiresAt));

export const isKeysResponse: Shape<KeysResponse> = (b): b is KeysResponse =>
  isRecord(b) && Array.isArray(b.keys) && b.keys.every(isKeyInfo);

export const isVerifyResponse: Shape<VerifyResponse> = (b): b is VerifyResponse =>
  isRecord(b) &&
  isStrings(b.caveats) &&
  ((b.ok === true && isString(b.key_id) && isString(b.token_id)) ||
    (b.ok === false && isString(b.reason) && isString(b.message)));
