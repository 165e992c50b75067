import { type CaveatRule, formatTenant, type TokenInspection } from "@omnigate/caps";

/** What inspect, mint and attenuate show about a token; read from it without verifying. */
export interface TokenSummary {
  token_id: string;
  key_id: string;
  epoch: number;
  /** The tenant caveat's tenant; null when the token has none (it can never verify). */
  tenant: string | null;
  /** Tightest `expires <` caveat, unix seconds; null = never expires. */
  expires_at: number | null;
  expired: boolean;
  caveats: Array<{ text: string; known: boolean }>;
  third_party_caveats: number;
  location?: string;
}

export function summarize(inspection: TokenInspection, nowSeconds: number): TokenSummary {
  const rules = inspection.rules.filter((r): r is CaveatRule => r !== undefined);
  const tenant = rules.find((r) => r.kind === "tenant");
  const expiresAt = rules.reduce<number | undefined>(
    (at, r) => (r.kind === "expires" ? Math.min(at ?? r.at, r.at) : at),
    undefined,
  );
  return {
    token_id: inspection.tokenId,
    key_id: inspection.keyId,
    epoch: inspection.epoch,
    tenant: tenant?.kind === "tenant" ? formatTenant(tenant.tenant) : null,
    expires_at: expiresAt ?? null,
    expired: expiresAt !== undefined && expiresAt <= nowSeconds,
    caveats: inspection.caveats.map((text, i) => ({ text, known: inspection.rules[i] !== undefined })),
    third_party_caveats: inspection.thirdPartyCaveats,
    ...(inspection.location === undefined ? {} : { location: inspection.location }),
  };
}

/** Aligned `label  value` lines for people. */
export function describeLines(s: TokenSummary, nowSeconds: number): string[] {
  const lines = [
    `tenant    ${s.tenant ?? "(none: a token without a tenant caveat never verifies)"}`,
    `expires   ${s.expires_at === null ? "never" : `${iso(s.expires_at)} (${s.expired ? "expired " : ""}${relative(s.expires_at, nowSeconds)})`}`,
    `key id    ${s.key_id}`,
    `token id  ${s.token_id}`,
    `epoch     ${s.epoch}`,
  ];
  if (s.location !== undefined) lines.push(`location  ${s.location}`);
  s.caveats.forEach((c, i) => {
    const note = c.known ? "" : "   (unknown caveat: every node refuses this token)";
    lines.push(`${i === 0 ? "caveats" : "       "}   ${c.text}${note}`);
  });
  if (s.third_party_caveats > 0) {
    lines.push(
      `          ${s.third_party_caveats} third-party caveat(s): Omnigate nodes refuse these tokens`,
    );
  }
  return lines;
}

export function iso(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace(".000Z", "Z");
}

/** `in 59m 58s`, `3h 2m ago`. */
export function relative(at: number, nowSeconds: number): string {
  const delta = at - nowSeconds;
  if (delta === 0) return "now";
  return delta > 0 ? `in ${duration(delta)}` : `${duration(-delta)} ago`;
}

const UNITS: Array<[string, number]> = [
  ["d", 86_400],
  ["h", 3600],
  ["m", 60],
  ["s", 1],
];

/** The largest unit and the next one when it is not zero: `2d 3h`, `59m 58s`, `5s`. */
export function duration(seconds: number): string {
  const i = Math.max(
    0,
    UNITS.findIndex(([, size]) => seconds >= size),
  );
  const [name, size] = UNITS[i] as [string, number];
  const n = Math.floor(seconds / size);
  const next = UNITS[i + 1];
  const rest = next ? Math.floor((seconds - n * size) / next[1]) : 0;
  return next && rest > 0 ? `${n}${name} ${rest}${next[0]}` : `${n}${name}`;
}

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** `--json` output: one JSON document on stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
