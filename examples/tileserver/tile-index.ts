import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { isStorageAddress, type StorageAddress } from "@omnigate/sdk";

/** z/x/y → the address of the tile's PNG in storage. */
export type TileIndex = Map<string, StorageAddress>;

export function tileKey(z: number, x: number, y: number): string {
  return `${z}/${x}/${y}`;
}

export async function readTileIndex(path: string): Promise<TileIndex> {
  const parsed = JSON.parse(await readFile(path, "utf8")) as { tiles?: Record<string, unknown> };
  const index: TileIndex = new Map();
  for (const [key, addr] of Object.entries(parsed.tiles ?? {})) {
    if (!/^\d+\/\d+\/\d+$/.test(key) || !isStorageAddress(addr)) throw new Error(`${path}: bad entry ${key}`);
    index.set(key, addr);
  }
  return index;
}

/** Writes the index, making its directory first (the default one does not exist on a fresh checkout). */
export async function writeTileIndex(path: string, index: TileIndex): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${JSON.stringify({ tiles: Object.fromEntries(index) }, null, 1)}\n`);
}
