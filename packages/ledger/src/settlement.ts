/**
 * Settlement records: a node's signed statement of one tenant's usage of one app over one
 * epoch. With `zk` the usage is split into parts (slices of the epoch) whose commitments the
 * record carries with a proof that each part is in [0, 2^32) and that they sum to the total,
 * so a verifier learns the total (to pay on) but not how the usage was spread over the epoch;
 * the node keeps the parts' openings for an audit. Without it (`plain`) the record is a
 * signed total.
 *
 * The signature covers a binary encoding of every field (see `signingBytes`); the proof's
 * context is the record's identity (tenant, app, epoch, node), so a proof cannot be moved to
 * another record.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, hexToBytes, utf8ToBytes } from "@noble/hashes/utils.js";
import { LedgerProofError } from "./errors.js";
import { scalarFromBytes, scalarToBytes } from "./group.js";
import { type NodeKey, signWithNodeKey, verifyNodeSignature } from "./node-key.js";
import { commit } from "./pedersen.js";
import { proveUsage, verifyUsage } from "./usage-proof.js";

const DOMAIN = "omnigate/v1/settlement";
/** Largest encoded usage proof accepted (64 parts × 64 bits is 2,404 + 2,048 bytes). */
const MAX_PROOF_BYTES = 8192;
const MAX_TENANT = 2n ** 128n - 1n;
/** Bits of each part a record's proof must show (docs/ledger.md). */
const PART_BITS = 32;

/** A settlement record as stored and sent (JSON). */
export interface SettlementRecord {
  readonly v: 1;
  /** Tenant id (a u128, in decimal). */
  readonly tenant: string;
  /** The app (OAP app proto id). */
  readonly app: number;
  /** Epoch start, seconds since the Unix epoch, and its length in seconds. */
  readonly epoch_start: number;
  readonly epoch_seconds: number;
  /** The usage to pay on (requests served in the epoch). */
  readonly usage_total: number;
  readonly mode: "plain" | "zk";
  /** zk: C_T (hex), the blinding that opens it to usage_total (hex), the proof (base64url). */
  readonly usage_commitment?: string;
  readonly usage_blinding?: string;
  readonly usage_proof?: string;
  /** The signing node's Ed25519 public key, hex. */
  readonly node_id: string;
  /** Ed25519 signature over signingBytes(record), hex. */
  readonly signature: string;
}

/** Why a settlement record was refused (the proof reasons, plus the record's own checks). */
export type SettlementRejectReason =
  | LedgerProofError["reason"]
  | "unknown_node"
  | "bad_signature"
  | "total_mismatch";

export class SettlementError extends Error {
  override readonly name = "SettlementError";
  constructor(
    readonly reason: SettlementRejectReason,
    message: string,
  ) {
    super(message);
  }
}

/** What the node knows at epoch close. */
export interface SettlementInput {
  tenant: string;
  app: number;
  epochStart: number;
  epochSeconds: number;
  /** Usage per slice of the epoch (their sum is the total); one slice for a plain record. */
  parts: readonly number[];
  mode: "plain" | "zk";
}

/** Builds and signs a record (zk: commits to the parts and proves the statement). */
export function createSettlement(input: SettlementInput, key: NodeKey): SettlementRecord {
  const total = input.parts.reduce((a, b) => a + b, 0);
  const base = {
    v: 1 as const,
    tenant: input.tenant,
    app: input.app,
    epoch_start: input.epochStart,
    epoch_seconds: input.epochSeconds,
    usage_total: total,
    mode: input.mode,
    node_id: key.nodeId,
  };
  checkFields(base);
  let unsigned: Omit<SettlementRecord, "signature"> = base;
  if (input.mode === "zk") {
    const usage = proveUsage(proofContext(base), input.parts.map(BigInt), PART_BITS);
    unsigned = {
      ...base,
      usage_commitment: bytesToHex(usage.commitment),
      usage_blinding: bytesToHex(scalarToBytes(usage.opening.blinding)),
      usage_proof: Buffer.from(usage.proof).toString("base64url"),
    };
  }
  return { ...unsigned, signature: bytesToHex(signWithNodeKey(key, signingBytes(unsigned))) };
}

/** What a verified record says. */
export interface VerifiedSettlement {
  /** Identifies the record for at-most-once payment: same tenant, app, epoch and node ⇒ same id. */
  readonly recordId: string;
  readonly total: number;
}

/**
 * Verifies a record from untrusted bytes (already JSON-parsed): its shape, that `node_id` is
 * one of `trustedNodes`, the signature and, in zk mode, the opening of the total and the
 * usage proof. Throws SettlementError with the first failing check's reason.
 */
export function verifySettlement(record: unknown, trustedNodes: ReadonlySet<string>): VerifiedSettlement {
  const r = parseRecord(record);
  if (!trustedNodes.has(r.node_id))
    throw new SettlementError("unknown_node", `node ${r.node_id} is not trusted`);
  const { signature, ...unsigned } = r;
  if (!verifyNodeSignature(r.node_id, signingBytes(unsigned), hexToBytes(signature))) {
    throw new SettlementError("bad_signature", "the record's signature does not verify under its node key");
  }
  if (r.mode === "zk") {
    const commitment = hexToBytes(r.usage_commitment as string);
    const proof = Buffer.from(r.usage_proof as string, "base64url");
    try {
      const blinding = scalarFromBytes(hexToBytes(r.usage_blinding as string), "usage_blinding");
      if (bytesToHex(commit(BigInt(r.usage_total), blinding).toBytes()) !== r.usage_commitment) {
        throw new SettlementError(
          "total_mismatch",
          "usage_total and usage_blinding do not open usage_commitment",
        );
      }
      const shown = verifyUsage(proofContext(r), commitment, proof);
      if (shown.bits !== PART_BITS) {
        throw new SettlementError(
          "malformed",
          `the proof shows ${shown.bits}-bit parts; records use ${PART_BITS}`,
        );
      }
    } catch (error) {
      if (error instanceof LedgerProofError) throw new SettlementError(error.reason, error.message);
      throw error;
    }
  }
  return { recordId: recordIdOf(r), total: r.usage_total };
}

/** The id under which a record is paid at most once. */
export function recordIdOf(r: Pick<SettlementRecord, "tenant" | "app" | "epoch_start" | "node_id">): string {
  return bytesToHex(
    sha256(
      concat(
        utf8ToBytes(`${DOMAIN}/id`),
        str(r.tenant),
        u64(r.app),
        u64(r.epoch_start),
        hexToBytes(r.node_id),
      ),
    ),
  );
}

/** The bytes the signature covers: every field but the signature, length-prefixed, in a fixed order. */
export function signingBytes(r: Omit<SettlementRecord, "signature">): Uint8Array {
  const zk = r.mode === "zk";
  return concat(
    utf8ToBytes(DOMAIN),
    u64(r.v),
    str(r.tenant),
    u64(r.app),
    u64(r.epoch_start),
    u64(r.epoch_seconds),
    u64(r.usage_total),
    str(r.mode),
    str(zk ? (r.usage_commitment as string) : ""),
    str(zk ? (r.usage_blinding as string) : ""),
    str(zk ? (r.usage_proof as string) : ""),
    hexToBytes(r.node_id),
  );
}

/** The usage proof's context: the record's identity and epoch length. */
function proofContext(r: Omit<SettlementRecord, "signature">): Uint8Array {
  return concat(
    utf8ToBytes(`${DOMAIN}/usage`),
    str(r.tenant),
    u64(r.app),
    u64(r.epoch_start),
    u64(r.epoch_seconds),
    hexToBytes(r.node_id),
  );
}

/** Checks a JSON value's shape and bounds before anything else touches it. */
function parseRecord(value: unknown): SettlementRecord {
  if (typeof value !== "object" || value === null) throw malformed("a record is a JSON object");
  const r = value as Record<string, unknown>;
  if (r.v !== 1) throw malformed(`record version ${String(r.v)} is not supported (1 is)`);
  checkFields(r as unknown as Omit<SettlementRecord, "signature">);
  if (typeof r.signature !== "string" || !/^[0-9a-f]{128}$/.test(r.signature)) {
    throw malformed("signature is not 64 bytes of hex");
  }
  if (r.mode === "zk") {
    if (typeof r.usage_commitment !== "string" || !/^[0-9a-f]{64}$/.test(r.usage_commitment)) {
      throw malformed("usage_commitment is not 32 bytes of hex");
    }
    if (typeof r.usage_blinding !== "string" || !/^[0-9a-f]{64}$/.test(r.usage_blinding)) {
      throw malformed("usage_blinding is not 32 bytes of hex");
    }
    if (
      typeof r.usage_proof !== "string" ||
      r.usage_proof.length > Math.ceil((MAX_PROOF_BYTES * 4) / 3) ||
      !/^[A-Za-z0-9_-]+$/.test(r.usage_proof)
    ) {
      throw malformed(`usage_proof is not base64url of at most ${MAX_PROOF_BYTES} bytes`);
    }
  } else if ("usage_commitment" in r || "usage_blinding" in r || "usage_proof" in r) {
    throw malformed("a plain record carries no commitment, blinding or proof");
  }
  return r as unknown as SettlementRecord;
}

function checkFields(r: Omit<SettlementRecord, "signature">): void {
  // Canonical decimal (no leading zeros) below 2^128: one tenant, one spelling, one record id.
  if (
    typeof r.tenant !== "string" ||
    !/^(0|[1-9]\d{0,38})$/.test(r.tenant) ||
    BigInt(r.tenant) > MAX_TENANT
  ) {
    throw malformed("tenant is not a canonical decimal u128");
  }
  for (const field of ["app", "epoch_start", "epoch_seconds", "usage_total"] as const) {
    const n = r[field];
    if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 0)
      throw malformed(`${field} is not an unsigned integer`);
  }
  if (r.app > 0xffff) throw malformed("app is not a 16-bit app id");
  if (r.epoch_seconds === 0) throw malformed("epoch_seconds is zero");
  if (r.mode !== "plain" && r.mode !== "zk")
    throw malformed(`mode ${String(r.mode)} is neither plain nor zk`);
  if (typeof r.node_id !== "string" || !/^[0-9a-f]{64}$/.test(r.node_id)) {
    throw malformed("node_id is not a 32-byte Ed25519 public key in hex");
  }
}

function malformed(message: string): SettlementError {
  return new SettlementError("malformed", message);
}

function str(s: string): Uint8Array {
  const bytes = utf8ToBytes(s);
  return concat(u64(bytes.length), bytes);
}

function u64(n: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(n), true);
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
