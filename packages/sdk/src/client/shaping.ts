import { type HelloReply, type HelloShaping, PAD_FRAME_MIN } from "@omnigate/oap";
import type { ShapingSettings } from "@omnigate/oap/internal";

/**
 * What the client applies to its own sends once HELLO is done (specs/oap-1.md §10.1): the
 * node's grant, never more than the client asked for. Undefined when the reply grants nothing
 * (a node without shaping, or with it off), when what it grants shapes nothing, or when the
 * node's max_frame leaves no room to split padding into PAD frames: the client then sends
 * its writes as they are and no PAD frame at all.
 */
export function grantedShaping(asked: HelloShaping, reply: HelloReply): ShapingSettings | undefined {
  const granted: unknown = reply.shaping;
  if (typeof granted !== "object" || granted === null) return undefined;
  if (!(reply.max_frame >= 2 * PAD_FRAME_MIN)) return undefined;
  const g = granted as Partial<Record<keyof HelloShaping, unknown>>;
  const settings: ShapingSettings = {
    padding: g.padding === asked.padding ? asked.padding : "off",
    jitterMs: atMost(g.jitter_ms, asked.jitter_ms),
    coverHz: atMost(g.cover_hz, asked.cover_hz),
    coverMaxBytes: Math.max(PAD_FRAME_MIN, atMost(g.cover_max_bytes, asked.cover_max_bytes)),
    maxFrame: reply.max_frame,
  };
  const shapesSomething = settings.padding !== "off" || settings.jitterMs > 0 || settings.coverHz > 0;
  return shapesSomething ? settings : undefined;
}

/** A granted number, no larger than asked; anything else as 0 (a node's bug must not make us send more). */
function atMost(value: unknown, asked: number): number {
  return typeof value === "number" && value >= 0 ? Math.min(value, asked) : 0;
}
