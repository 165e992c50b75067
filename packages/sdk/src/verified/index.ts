/** Verified streaming: per-64-KiB-group verification of `b3:` objects over the BLAKE3 tree. */
export {
  BLOCK_LEN,
  CHUNK_END,
  CHUNK_LEN,
  CHUNK_START,
  chunkCvs,
  chunkRootOutput,
  compress,
  IV,
  PARENT,
  parentOutput,
  ROOT,
} from "./blake3-compress.js";
export {
  Blake3TreeBuilder,
  type Blake3TreeResult,
  GROUP_BYTES,
  GROUP_CHUNKS,
  groupCount,
  groupCv,
  groupLength,
  parentCv,
  treeRoot,
} from "./blake3-tree.js";
export { buildOutboard, expectedProofLength, outboardBytes, PARENT_BYTES, proofFor } from "./outboard.js";
export {
  encodeGroupRecordHead,
  GroupVerificationError,
  groupSpanFor,
  ProofStreamError,
  type VerifiedGroup,
  VerifiedGroupReader,
  type VerifiedGroupReaderOptions,
} from "./proof-stream.js";
export { verifyGroup } from "./verify-group.js";
