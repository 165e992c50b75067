import { readFileSync } from "node:fs";
import { CapVerifier, mintToken } from "@omnigate/caps";
import { createBLAKE3 } from "hash-wasm";
import { describe, expect, it } from "vitest";
import { Blake3TreeBuilder, GroupVerificationError, VerifiedGroupReader } from "../src/internal.js";

interface Vectors {
  group_bytes: number;
  objects: Array<{
    size: number;
    addr: string;
    outboard_hex: string;
    groups: Array<{ index: number; offset: number; length: number; record_head_hex: string }>;
  }>;
  node_capability: {
    network_key_hex: string;
    key_id: string;
    token_id: string;
    caller_id: string;
    expires_at: number;
    token_hex: string;
  };
}

const vectors = JSON.parse(
  readFileSync(new URL("../../../specs/vectors/chunk-proofs.json", import.meta.url), "utf8"),
) as Vectors;

function content(size: number): Buffer {
  const bytes = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) bytes[i] = i % 251;
  return bytes;
}

function replyBody(object: Vectors["objects"][number], bytes: Buffer): Buffer {
  return Buffer.concat(
    object.groups.flatMap((g) => [
      Buffer.from(g.record_head_hex, "hex"),
      bytes.subarray(g.offset, g.offset + g.length),
    ]),
  );
}

describe("chunk-proof vectors (specs/vectors/chunk-proofs.json)", () => {
  it("every address is the plain BLAKE3 of its bytes (hash-wasm) and the outboard is the tree's", async () => {
    const hasher = await createBLAKE3();
    for (const object of vectors.objects) {
      const bytes = content(object.size);
      hasher.init();
      hasher.update(bytes);
      expect(`b3:${hasher.digest("hex")}`).toBe(object.addr);
      const tree = new Blake3TreeBuilder().update(bytes).finish();
      expect(Buffer.from(tree.outboard).toString("hex"), `size ${object.size}`).toBe(object.outboard_hex);
      expect(object.outboard_hex.length / 2).toBe((object.groups.length - 1) * 64);
    }
  });

  it("the reader accepts each vector's reply body, fed a byte at a time and whole", () => {
    for (const object of vectors.objects) {
      const bytes = content(object.size);
      const body = replyBody(object, bytes);
      const root = Buffer.from(object.addr.slice(3), "hex");
      for (const step of [1, body.byteLength || 1]) {
        const reader = new VerifiedGroupReader({
          root,
          size: object.size,
          firstGroup: 0,
          lastGroup: object.groups.length - 1,
        });
        const got: Buffer[] = [];
        for (let at = 0; at < body.byteLength; at += step) {
          for (const group of reader.push(body.subarray(at, at + step))) got.push(Buffer.from(group.bytes));
        }
        reader.end();
        expect(Buffer.concat(got).equals(bytes), `size ${object.size} step ${step}`).toBe(true);
      }
    }
  });

  it("a flipped bit in a sibling CV fails that group", () => {
    const object = vectors.objects.find((o) => o.groups.length >= 4) as Vectors["objects"][number];
    const bytes = content(object.size);
    const body = replyBody(object, bytes);
    const third = object.groups[2] as Vectors["objects"][number]["groups"][number];
    // Group 2's record starts after the two records before it; its first CV byte follows n.
    const at = object.groups.slice(0, 2).reduce((sum, g) => sum + g.record_head_hex.length / 2 + g.length, 0);
    body[at + 1] = (body[at + 1] as number) ^ 1;
    const reader = new VerifiedGroupReader({
      root: Buffer.from(object.addr.slice(3), "hex"),
      size: object.size,
      firstGroup: 0,
      lastGroup: object.groups.length - 1,
    });
    let error: unknown;
    try {
      reader.push(body);
      reader.end();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(GroupVerificationError);
    expect((error as GroupVerificationError).groupIndex).toBe(third.index);
  });

  it("the node capability vector re-mints to the same bytes and verifies for its caller's topic only", () => {
    const v = vectors.node_capability;
    const key = Buffer.from(v.network_key_hex, "hex");
    const token = mintToken({
      rootKey: key,
      keyId: v.key_id,
      tokenId: v.token_id,
      tenant: 0n,
      apps: [0x0401],
      topics: `node:${v.caller_id}`,
      expiresAt: v.expires_at,
    });
    expect(Buffer.from(token).toString("hex")).toBe(v.token_hex);
    const verifier = new CapVerifier({
      keys: { get: (id) => (id === v.key_id ? key : undefined) },
      now: () => v.expires_at - 60,
    });
    const ctx = { tenant: 0n, app: 0x0401, op: "dht.ping" };
    expect(() => verifier.verify(token, { ...ctx, topic: `node:${v.caller_id}` })).not.toThrow();
    expect(() => verifier.verify(token, { ...ctx, topic: `node:${"22".repeat(32)}` })).toThrow(/topic/);
  });
});
