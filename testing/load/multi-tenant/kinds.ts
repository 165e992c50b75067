/**
 * The apps the scenario calls and the request kinds every tenant mixes: plain echo, echo
 * holding its stream open, and the echo backend routed through the node.
 */
import type { LoadMixEntry } from "../generator.js";

export const ECHO_APP = 0x0101;
/** The echo backend example (examples/echo/echo-backend.ts), routed through the node. */
export const BACKEND_APP = 0x1001;

export interface RequestKindSpec {
  name: string;
  weight: number;
  app: number;
  bodyBytes: number;
  /** Echo meta delay_ms: how long each admitted stream stays open. */
  holdMs: number;
}

export function requestKinds(holdMs: number, backendHoldMs: number): RequestKindSpec[] {
  return [
    { name: "echo", weight: 65, app: ECHO_APP, bodyBytes: 64, holdMs: 0 },
    { name: "echo-delay", weight: 25, app: ECHO_APP, bodyBytes: 64, holdMs },
    { name: "backend", weight: 10, app: BACKEND_APP, bodyBytes: 256, holdMs: backendHoldMs },
  ];
}

/** The kinds as the generator's mix: a held kind asks echo for `delay_ms`. */
export function loadMix(kinds: RequestKindSpec[]): LoadMixEntry[] {
  return kinds.map((k) => ({
    weight: k.weight,
    appProtoId: k.app,
    bodyBytes: k.bodyBytes,
    meta: k.holdMs > 0 ? { delay_ms: k.holdMs } : undefined,
  }));
}

/** Σ weights of the kinds that call `app`: a tenant's bucket for an app is shared by them. */
export function kindsWeightOfApp(kinds: RequestKindSpec[], app: number): number {
  return kinds.filter((k) => k.app === app).reduce((s, k) => s + k.weight, 0);
}
