/**
 * The defence settings the harness measures: the SDK's `shaping` option, which asks the node
 * to shape its sends the same way (negotiated in HELLO, specs/oap-1.md §10.1).
 */
import type { Shaping } from "./rig.js";

export interface DefenceSetting {
  name: string;
  /** In words, for the report. */
  description: string;
  shaping: Shaping;
}

export const DEFENCES: readonly DefenceSetting[] = [
  { name: "none", description: "undefended", shaping: undefined },
  { name: "padme", description: "bursts padded to Padmé sizes", shaping: { padding: "padme" } },
  { name: "pow2", description: "bursts padded to powers of two", shaping: { padding: "pow2" } },
  {
    name: "pow2+jitter",
    description: "powers of two, writes held 0–20 ms",
    shaping: { padding: "pow2", jitterMs: 20 },
  },
  {
    name: "pow2+cover20",
    description: "powers of two, cover bursts at 20 Hz (≤ 16 KiB), no jitter",
    shaping: { padding: "pow2", coverHz: 20, coverMaxBytes: 16384 },
  },
  {
    name: "pow2+jitter+cover5",
    description: "powers of two, 0–20 ms jitter, cover bursts at 5 Hz (≤ 2 KiB)",
    shaping: { padding: "pow2", jitterMs: 20, coverHz: 5, coverMaxBytes: 2048 },
  },
  {
    name: "pow2+jitter+cover20",
    description: "powers of two, 0–20 ms jitter, cover bursts at 20 Hz (≤ 16 KiB)",
    shaping: { padding: "pow2", jitterMs: 20, coverHz: 20, coverMaxBytes: 16384 },
  },
];

export function defenceNamed(name: string): DefenceSetting {
  const found = DEFENCES.find((d) => d.name === name);
  if (!found)
    throw new Error(`no defence setting "${name}"; known: ${DEFENCES.map((d) => d.name).join(", ")}`);
  return found;
}
