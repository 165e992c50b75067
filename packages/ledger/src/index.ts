/**
 * @omnigate/ledger: verifiable usage accounting. Pedersen commitments on ristretto255,
 * Bulletproofs range proofs (single and aggregated), a proof that committed parts sum to a
 * committed total, and the signed settlement records built on them. Imports nothing of the
 * node; docs/ledger.md describes what is committed and what a verifier learns.
 */
export { LedgerProofError, type LedgerRejectReason } from "./errors.js";
export {
  BULLETPROOFS_G_DST,
  BULLETPROOFS_H_DST,
  bulletproofGenerators,
  PARAMETERS_VERSION,
  PEDERSEN_DST,
  type PedersenGenerators,
  pedersenGenerators,
} from "./generators.js";
export { ORDER, type Point, randomScalar } from "./group.js";
export { generateNodeKey, type NodeKey, nodeKeyFromPem, nodeKeyToPem } from "./node-key.js";
export { commit } from "./pedersen.js";
export { MAX_AGGREGATED, proveRange, RANGE_BITS, rangeProofBytes, verifyRange } from "./range-proof.js";
export {
  createSettlement,
  recordIdOf,
  SettlementError,
  type SettlementInput,
  type SettlementRecord,
  type SettlementRejectReason,
  signingBytes,
  type VerifiedSettlement,
  verifySettlement,
} from "./settlement.js";
export { proveSum, SUM_PROOF_BYTES, verifySum } from "./sum-proof.js";
export { Transcript } from "./transcript.js";
export {
  bulletproofsRistretto255,
  proveUsage,
  type UsageCommitment,
  type UsageOpening,
  type VerifiedUsage,
  verifyUsage,
  type ZkProver,
  type ZkVerifier,
} from "./usage-proof.js";
