import type { Frame } from "../src/index.js";

export const bytesOf = (hex: string): Buffer => Buffer.from(hex, "hex");

export const hexOf = (bytes: Uint8Array): string =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");

/** A frame as plain comparable data (views become hex). */
export function plain(f: Frame) {
  return {
    len: f.len,
    ver: f.ver,
    flags: f.flags,
    code: f.code,
    appProtoId: f.appProtoId,
    tenantId: f.tenantId,
    capLen: f.capLen,
    corrId: f.corrId,
    cap: hexOf(f.cap),
    payload: hexOf(f.payload),
  };
}
