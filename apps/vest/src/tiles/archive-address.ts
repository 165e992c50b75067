import { readFile } from "node:fs/promises";
import { addressOf } from "@omnigate/sdk";

/** The storage address of the cached archive file (what `npm run vest` stored). */
export async function addressOfArchive(file: string): Promise<string> {
  return addressOf(await readFile(file));
}
