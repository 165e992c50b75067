import { createHash, randomBytes } from "node:crypto";
import { mkdir, readFile } from "node:fs/promises";
import { dirname } from "node:path";
import { writeAtomic } from "../fs/write-atomic.js";

/** The shared secret of a DHT network, and the key id node capabilities name it by. */
export interface NetworkKey {
  key: Uint8Array;
  /** `net-` + 8 hex digits of its SHA-256: two networks' tokens never name the same key. */
  keyId: string;
  /** Where it was read from (for the start log). */
  path: string;
  /** True when this start made it (a first node): share the file with the other nodes. */
  created: boolean;
}

/**
 * Loads the network key: 32 bytes, base64url text in one line. Nodes that hold the same key
 * form one network: each mints its own node capability under it, and only tokens under it are
 * accepted on the node-to-node app id. A missing file is made (mode 0600) so a first node
 * starts with no set-up; its path is logged for the others to copy.
 */
export async function loadNetworkKey(path: string): Promise<NetworkKey> {
  let text: string | undefined;
  try {
    text = (await readFile(path, "utf8")).trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  if (text === undefined) {
    const key = randomBytes(32);
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    await writeAtomic(path, `${key.toString("base64url")}\n`, 0o600);
    return { key, keyId: keyIdOf(key), path, created: true };
  }
  const key = Buffer.from(text, "base64url");
  if (key.byteLength !== 32 || key.toString("base64url") !== text) {
    throw new Error(
      `dht.network_key_file ${path} must hold 32 bytes as base64url text on one line (it holds ${key.byteLength} bytes)`,
    );
  }
  return { key, keyId: keyIdOf(key), path, created: false };
}

function keyIdOf(key: Uint8Array): string {
  return `net-${createHash("sha256").update(key).digest("hex").slice(0, 8)}`;
}
