import type { HelloShaping } from "@omnigate/oap";
import { PAD_FRAME_MIN } from "@omnigate/oap";
import type { ShapingSettings } from "@omnigate/oap/internal";

/** The node's ceilings on what it grants (config `shaping.*`). */
export interface ShapingLimits {
  maxJitterMs: number;
  maxCoverHz: number;
  maxCoverBytes: number;
}

/** What a HELLO's `shaping` gets for a key it leaves out (specs/oap-1.md §10.1). */
const ASKED_BY_DEFAULT: HelloShaping = { padding: "off", jitter_ms: 0, cover_hz: 0, cover_max_bytes: 4096 };

/**
 * The shaping granted for a HELLO's `shaping` value: the request clamped to the node's limits,
 * a value of the wrong type read as its default. Undefined when the HELLO asked for none (or
 * sent something that is not an object): the reply then carries no `shaping`.
 */
export function grantShaping(asked: unknown, limits: ShapingLimits): HelloShaping | undefined {
  if (typeof asked !== "object" || asked === null || Array.isArray(asked)) return undefined;
  const a = asked as Partial<Record<keyof HelloShaping, unknown>>;
  const d = ASKED_BY_DEFAULT;
  return {
    padding: a.padding === "padme" || a.padding === "pow2" ? a.padding : "off",
    jitter_ms: clamp(a.jitter_ms, d.jitter_ms, 0, limits.maxJitterMs),
    cover_hz: clamp(a.cover_hz, d.cover_hz, 0, limits.maxCoverHz),
    cover_max_bytes: Math.floor(
      clamp(a.cover_max_bytes, d.cover_max_bytes, PAD_FRAME_MIN, limits.maxCoverBytes),
    ),
  };
}

/** What the node's ShapingSink runs with for a grant; undefined when the grant shapes nothing. */
export function shapingSettings(granted: HelloShaping, maxFrame: number): ShapingSettings | undefined {
  if (granted.padding === "off" && granted.jitter_ms === 0 && granted.cover_hz === 0) return undefined;
  return {
    padding: granted.padding,
    jitterMs: granted.jitter_ms,
    coverHz: granted.cover_hz,
    coverMaxBytes: granted.cover_max_bytes,
    maxFrame,
  };
}

function clamp(value: unknown, fallback: number, least: number, most: number): number {
  const n = typeof value === "number" && Number.isFinite(value) ? value : fallback;
  return Math.min(Math.max(n, least), most);
}
