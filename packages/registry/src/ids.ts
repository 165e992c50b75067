import { AppProtoRange, formatAppProtoId as formatId } from "@omnigate/oap";

/** Which part of the 16-bit app_proto_id space an id falls in (specs/oap-1.md §11). */
export type IdRange = "control" | "platform" | "registered" | "private";

const ID_TEXT = /^0x[0-9a-f]{4}$/;

/** Parses the registry's id notation (`0x1001`); undefined when it is not exactly that form. */
export function parseAppProtoId(text: string): number | undefined {
  return ID_TEXT.test(text) ? Number.parseInt(text.slice(2), 16) : undefined;
}

/** The registry's notation for an id: `0x` and four lowercase hex digits. */
export function formatAppProtoId(id: number): string {
  if (!Number.isInteger(id) || id < 0 || id > 0xffff)
    throw new RangeError(`not a 16-bit app_proto_id: ${id}`);
  return formatId(id);
}

export function idRange(id: number): IdRange {
  if (id === 0) return "control";
  if (id >= AppProtoRange.platform[0] && id <= AppProtoRange.platform[1]) return "platform";
  if (id >= AppProtoRange.registered[0] && id <= AppProtoRange.registered[1]) return "registered";
  return "private";
}

/** Human text for a range, for messages. */
export function describeRange(range: IdRange): string {
  const hex = (n: number) => `0x${n.toString(16).toUpperCase().padStart(4, "0")}`;
  switch (range) {
    case "control":
      return "control (0x0000)";
    case "platform":
      return `platform services (${hex(AppProtoRange.platform[0])}–${hex(AppProtoRange.platform[1])})`;
    case "registered":
      return `registered apps (${hex(AppProtoRange.registered[0])}–${hex(AppProtoRange.registered[1])})`;
    case "private":
      return `private/experimental (${hex(AppProtoRange.private[0])}–${hex(AppProtoRange.private[1])})`;
  }
}
