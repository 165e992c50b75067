/** Fixed OAP/1 header size in bytes (see specs/oap-1.md §2). */
export const HEADER_LEN = 38;

/** The only protocol version this codec speaks. */
export const OAP_VERSION = 1;

/** Default and ceiling for a whole frame, header included. */
export const DEFAULT_MAX_FRAME = 1_048_576;

/** Default per-connection ceiling on open streams. */
export const DEFAULT_MAX_INFLIGHT = 256;

/** Default bound on the capability section of a START frame. */
export const DEFAULT_MAX_CAP_LEN = 4096;

/** Largest meta section a START payload can carry (meta_len is a u16). */
export const MAX_META_LEN = 0xffff;

/** Header field offsets, big-endian. */
export const Offset = {
  len: 0,
  ver: 4,
  flags: 6,
  code: 8,
  appProtoId: 10,
  tenantId: 12,
  capLen: 28,
  corrId: 30,
} as const;

export const Flags = {
  REQ: 0x01,
  RESP: 0x02,
  EVENT: 0x04,
  START: 0x08,
  END: 0x10,
  ACK_REQ: 0x20,
  COMP: 0x40,
  APP_E2E: 0x80,
} as const;

export type FlagName = keyof typeof Flags;

/** Bits 8–15 are reserved and must be zero. */
export const RESERVED_FLAGS_MASK = 0xff00;

/** Exactly one of these is set on every frame. */
export const KIND_FLAGS_MASK = Flags.REQ | Flags.RESP | Flags.EVENT;

/** Flags this implementation accepts from peers (COMP arrives with bounded zstd). */
export const FLAGS_SUPPORTED =
  Flags.REQ | Flags.RESP | Flags.EVENT | Flags.START | Flags.END | Flags.ACK_REQ | Flags.COMP | Flags.APP_E2E;

/** Well-known app_proto_id values and ranges. */
export const AppProtoId = {
  CONTROL: 0x0000,
  ECHO: 0x0101,
  MAILBOX: 0x0201,
  STORAGE: 0x0301,
  /** Node to node: DHT provider discovery (§11.2), called with a node capability. */
  DHT: 0x0401,
} as const;

export const AppProtoRange = {
  platform: [0x0001, 0x0fff],
  registered: [0x1000, 0xefff],
  private: [0xf000, 0xffff],
} as const;

/** An app_proto_id as logs, metrics and messages show it: `0x0101`. */
export function formatAppProtoId(id: number): string {
  return `0x${id.toString(16).padStart(4, "0")}`;
}

export function flagNames(flags: number): FlagName[] {
  return (Object.keys(Flags) as FlagName[]).filter((name) => (flags & Flags[name]) !== 0);
}
