import { createBlake3 } from "../blake3.js";
import { addressWith, type StorageAddress } from "./storage.js";

/** The address of some bytes (`b3:` + their BLAKE3 in hex). */
export function addressOf(bytes: Uint8Array): Promise<StorageAddress> {
  return addressWith(createBlake3, bytes);
}
