/** Settlement records: signed, bound to their identity, and refused with a clear reason. */
import { describe, expect, it } from "vitest";
import { generateNodeKey, nodeKeyFromPem, nodeKeyToPem, signWithNodeKey } from "../src/node-key.js";
import {
  createSettlement,
  recordIdOf,
  SettlementError,
  type SettlementRecord,
  signingBytes,
  verifySettlement,
} from "../src/settlement.js";

const key = generateNodeKey();
const trusted = new Set([key.nodeId]);
const input = {
  tenant: "42",
  app: 0x0400,
  epochStart: 1_796_000_400,
  epochSeconds: 3600,
  parts: [100, 250, 0, 9_650],
};

function reasonOf(record: unknown, nodes: ReadonlySet<string> = trusted): string {
  try {
    verifySettlement(record, nodes);
  } catch (error) {
    if (error instanceof SettlementError) return error.reason;
    throw error;
  }
  return "accepted";
}

/** The record changed by `patch` and signed again by `by` (a node can sign anything it likes). */
function resigned(record: SettlementRecord, patch: Partial<SettlementRecord>, by = key): SettlementRecord {
  const { signature: _, ...rest } = { ...record, ...patch };
  return { ...rest, signature: Buffer.from(signWithNodeKey(by, signingBytes(rest))).toString("hex") };
}

describe("settlement records", () => {
  const zk = createSettlement({ ...input, mode: "zk" }, key);
  const plain = createSettlement({ ...input, mode: "plain" }, key);

  it("verify in both modes, after a JSON round trip, with the total and a stable id", () => {
    for (const record of [zk, plain]) {
      const verified = verifySettlement(JSON.parse(JSON.stringify(record)), trusted);
      expect(verified.total).toBe(10_000);
      expect(verified.recordId).toBe(recordIdOf(record));
    }
    expect(recordIdOf(zk)).toBe(recordIdOf(plain));
    expect(recordIdOf({ ...zk, epoch_start: zk.epoch_start + 3600 })).not.toBe(recordIdOf(zk));
  });

  it("refuses records from an unknown node", () => {
    expect(reasonOf(zk, new Set())).toBe("unknown_node");
    const stranger = generateNodeKey();
    expect(reasonOf(createSettlement({ ...input, mode: "plain" }, stranger))).toBe("unknown_node");
  });

  it("refuses forged records: changed fields, or signed by another key under a trusted node id", () => {
    expect(reasonOf({ ...plain, usage_total: 20_000 })).toBe("bad_signature");
    expect(reasonOf({ ...zk, epoch_start: zk.epoch_start + 3600 })).toBe("bad_signature");
    const forger = generateNodeKey();
    expect(reasonOf(resigned(plain, { usage_total: 1 }, forger))).toBe("bad_signature");
  });

  it("refuses a total that does not match its parts, even signed by the node itself", () => {
    expect(reasonOf(resigned(zk, { usage_total: 10_001 }))).toBe("total_mismatch");
  });

  it("refuses a proof moved to another record of the same node", () => {
    const other = createSettlement({ ...input, epochStart: input.epochStart + 3600, mode: "zk" }, key);
    const moved = resigned(other, {
      usage_commitment: zk.usage_commitment,
      usage_blinding: zk.usage_blinding,
      usage_proof: zk.usage_proof,
    });
    expect(reasonOf(moved)).toBe("range_proof_failed");
  });

  it.each([
    ["not an object", "record"],
    ["another version", { ...plain, v: 2 }],
    ["a bad tenant", { ...plain, tenant: "x'); drop" }],
    ["a tenant with a leading zero (a second id for the same tenant)", { ...plain, tenant: "042" }],
    ["a tenant past 2^128 − 1", { ...plain, tenant: "340282366920938463463374607431768211456" }],
    ["a fractional total", { ...plain, usage_total: 1.5 }],
    ["a negative epoch", { ...plain, epoch_start: -1 }],
    ["an unknown mode", { ...plain, mode: "trust-me" }],
    ["a short node id", { ...plain, node_id: "ab" }],
    ["a short signature", { ...plain, signature: "00" }],
    ["a zk record without a proof", { ...zk, usage_proof: undefined }],
    ["a plain record with a proof", { ...plain, usage_proof: zk.usage_proof }],
    ["an oversized proof", { ...zk, usage_proof: "A".repeat(20_000) }],
  ])("refuses %s as malformed", (_what, record) => {
    expect(reasonOf(record)).toBe("malformed");
  });

  it("keeps the node key across a PEM round trip", () => {
    const again = nodeKeyFromPem(nodeKeyToPem(key));
    expect(again.nodeId).toBe(key.nodeId);
    expect(reasonOf(createSettlement({ ...input, mode: "plain" }, again))).toBe("accepted");
  });
});
