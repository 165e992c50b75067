/**
 * Writes specs/vectors/chunk-proofs.json, the vectors of specs/oap-1.md §11.2–11.3: for objects
 * of several sizes, the address, the outboard, and each group's record head (the sibling CVs
 * of its proof); and a node capability minted with a fixed key and token id.
 *
 *   node --conditions=source --import tsx specs/vectors/chunk-proofs.ts
 *
 * The tree code is the SDK's (no other package exposes BLAKE3 chaining values); every address
 * is checked here against hash-wasm's plain BLAKE3 before anything is written, so a vector
 * can only exist for a tree whose root is the standard hash. Deterministic output.
 */
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { mintToken } from "@omnigate/caps";
import {
  Blake3TreeBuilder,
  encodeGroupRecordHead,
  GROUP_BYTES,
  groupCount,
  proofFor,
} from "@omnigate/sdk/internal";
import { createBLAKE3 } from "hash-wasm";

const SIZES = [0, 1, 1024, 65_535, 65_536, 65_537, 131_072, 200_000, 5 * 65_536 + 123];

/** Bytes `i mod 251`: no run repeats at a power of two, so a misplaced group cannot pass. */
function content(size: number): Buffer {
  const bytes = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) bytes[i] = i % 251;
  return bytes;
}

const hasher = await createBLAKE3();
const objects = [];
for (const size of SIZES) {
  const bytes = content(size);
  const tree = new Blake3TreeBuilder();
  tree.update(bytes);
  const { root, outboard } = tree.finish();
  hasher.init();
  hasher.update(bytes);
  const plain = hasher.digest("hex");
  const rootHex = Buffer.from(root).toString("hex");
  if (plain !== rootHex) throw new Error(`size ${size}: tree root ${rootHex} is not BLAKE3 ${plain}`);
  const groups = [];
  for (let i = 0; i < groupCount(size); i++) {
    const start = i * GROUP_BYTES;
    groups.push({
      index: i,
      offset: start,
      length: Math.min(GROUP_BYTES, size - start),
      record_head_hex: Buffer.from(encodeGroupRecordHead(proofFor(outboard, size, i))).toString("hex"),
    });
  }
  objects.push({ size, addr: `b3:${plain}`, outboard_hex: Buffer.from(outboard).toString("hex"), groups });
}

const networkKey = Buffer.alloc(32, 7);
const callerId = "11".repeat(32);
const nodeCapability = {
  description:
    "a node capability: tenant 0, apps 0x0401, topics ^= node:<id>, expires; minted under the network key (32 bytes of 0x07) with key id net- + 8 hex digits of its SHA-256, token id fixed",
  network_key_hex: networkKey.toString("hex"),
  key_id: "net-4bb06f8e",
  token_id: "vector-node-cap",
  caller_id: callerId,
  expires_at: 2_000_000_000,
  token_hex: Buffer.from(
    mintToken({
      rootKey: networkKey,
      keyId: "net-4bb06f8e",
      tokenId: "vector-node-cap",
      tenant: 0n,
      apps: [0x0401],
      topics: `node:${callerId}`,
      expiresAt: 2_000_000_000,
    }),
  ).toString("hex"),
};

const out = {
  spec: "specs/oap-1.md §11.2–11.3",
  description:
    "Objects of bytes i mod 251: address, outboard (pre-order parents, 64 bytes each), and per group the record head (u8 n, n sibling CVs top-down) a chunk-verified reply puts before the group's bytes.",
  group_bytes: GROUP_BYTES,
  objects,
  node_capability: nodeCapability,
};
const target = join(dirname(fileURLToPath(import.meta.url)), "chunk-proofs.json");
writeFileSync(target, `${JSON.stringify(out, null, 2)}\n`);
process.stderr.write(`wrote ${target}: ${objects.length} objects\n`);
