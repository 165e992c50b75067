import { allocBytes, utf8Bytes } from "./bytes.js";
import { MAX_META_LEN } from "./constants.js";
import { OapError } from "./errors.js";

/** JSON object carried in the meta section of a START frame. */
export type Meta = Record<string, unknown>;

export interface StartPayload {
  meta: Meta;
  body: Uint8Array;
}

const textDecoder = new TextDecoder("utf-8", { fatal: true });

/** Encodes `meta_len:u16 | meta JSON | body`. An empty meta object is sent as meta_len 0. */
export function encodeStartPayload(meta: Meta | undefined, body?: Uint8Array): Buffer {
  return startPayload(encodeMeta(meta), body);
}

/**
 * The meta section of a START payload: `meta` as UTF-8 JSON, or undefined for no meta or an
 * empty object (sent as meta_len 0). Throws 400 `bad_meta` above MAX_META_LEN bytes. For
 * senders that need the meta's size before they build the frame, so it is encoded once.
 */
export function encodeMeta(meta: Meta | undefined): Buffer | undefined {
  if (meta === undefined || Object.keys(meta).length === 0) return undefined;
  const json = utf8Bytes(JSON.stringify(meta));
  if (json.length > MAX_META_LEN) {
    throw new OapError(
      "bad_meta",
      `meta is ${json.length} bytes; at most ${MAX_META_LEN} fit in a START frame`,
    );
  }
  return json;
}

/** `meta_len:u16 | meta | body`, from a meta section made by encodeMeta. */
export function startPayload(json: Uint8Array | undefined, body?: Uint8Array): Buffer {
  const metaLen = json?.length ?? 0;
  const bodyLen = body?.length ?? 0;
  const out = allocBytes(2 + metaLen + bodyLen);
  out[0] = metaLen >>> 8;
  out[1] = metaLen & 0xff;
  if (json && metaLen > 0) out.set(json, 2);
  if (body && bodyLen > 0) out.set(body, 2 + metaLen);
  return out;
}

/** Splits a START payload; throws 400 `bad_meta` on a short payload or meta that is not a JSON object. */
export function decodeStartPayload(payload: Uint8Array): StartPayload {
  const metaLen = startMetaLength(payload);
  return { meta: startMeta(payload, metaLen), body: payload.subarray(2 + metaLen) };
}

/** The checked meta_len of a START payload; throws 400 `bad_meta` when it does not fit. */
export function startMetaLength(payload: Uint8Array): number {
  if (payload.length < 2) {
    throw new OapError("bad_meta", "START payload is shorter than its 2-byte meta_len");
  }
  const metaLen = (payload[0] as number) * 256 + (payload[1] as number);
  if (2 + metaLen > payload.length) {
    throw new OapError(
      "bad_meta",
      `meta_len ${metaLen} exceeds the ${payload.length - 2} payload bytes left`,
    );
  }
  return metaLen;
}

/** The meta of a START payload whose meta_len was checked (a fresh empty object for none). */
export function startMeta(payload: Uint8Array, metaLen: number): Meta {
  return metaLen === 0 ? {} : parseMeta(payload.subarray(2, 2 + metaLen));
}

export function parseMeta(bytes: Uint8Array): Meta {
  let value: unknown;
  try {
    value = JSON.parse(textDecoder.decode(bytes));
  } catch {
    throw new OapError("bad_meta", "meta is not valid UTF-8 JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new OapError("bad_meta", "meta must be a JSON object");
  }
  return value as Meta;
}

/** The meta of an error frame (specs/oap-1.md §7). */
export interface ErrorMeta extends Meta {
  reason: string;
  message: string;
  retry_after_ms?: number;
}
