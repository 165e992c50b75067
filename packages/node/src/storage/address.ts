import { OapError } from "@omnigate/oap";

/** `b3:` + the 64 lowercase hex digits of the BLAKE3-256 digest of an object's bytes. */
export type ObjectAddress = `b3:${string}`;

const ADDRESS = /^b3:[0-9a-f]{64}$/;

export function isAddress(value: unknown): value is ObjectAddress {
  return typeof value === "string" && ADDRESS.test(value);
}

/** The address named by meta `key`, or 400 bad_meta. */
export function addressFromMeta(meta: Record<string, unknown>, key: string): ObjectAddress {
  const value = meta[key];
  if (!isAddress(value)) {
    throw new OapError(
      "bad_meta",
      `meta "${key}" must be an object address: "b3:" and 64 lowercase hex digits`,
    );
  }
  return value;
}

export function addressOfDigest(hexDigest: string): ObjectAddress {
  return `b3:${hexDigest}`;
}

/** The hex digest of an address (what the engines key objects by). */
export function digestOf(address: ObjectAddress): string {
  return address.slice(3);
}
