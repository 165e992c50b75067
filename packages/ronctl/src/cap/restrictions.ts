import { CapError, type CaveatRule, type MintOptions, parseAppId, parseCaveat } from "@omnigate/caps";
import type { Command } from "commander";
import { CommandRefused } from "../errors.js";

/** What `mint` asks the node for and `attenuate` adds as caveats: the same flags for both. */
export type Restrictions = Pick<MintOptions, "apps" | "ops" | "topics" | "rps" | "bytes"> & {
  ttlSeconds?: number;
};

export interface RestrictionOptions {
  apps?: string;
  ops?: string;
  topics?: string;
  ttl?: string;
  rps?: string;
  bytes?: string;
}

export function withRestrictionOptions(command: Command): Command {
  return command
    .option("--apps <ids>", "app_proto_ids allowed, comma-separated, e.g. 0x0101,0x0201")
    .option("--ops <ops>", "ops allowed, comma-separated, e.g. mailbox.send,storage.get")
    .option("--topics <prefix>", "topics must start with this prefix")
    .option("--ttl <duration>", "lifetime: seconds, or a number with s, m, h or d (e.g. 3600, 30m, 1h, 7d)")
    .option("--rps <n>", "requests per second the quota stage allows this token")
    .option("--bytes <n>", "bytes the quota stage allows this token");
}

/** Checks each flag against the caveat grammar here, so a typo gets a message about the flag. */
export function parseRestrictions(opts: RestrictionOptions): Restrictions {
  const r: Restrictions = {};
  if (opts.apps !== undefined) {
    r.apps = splitList(opts.apps, "--apps").map((id) => {
      try {
        return parseAppId(id);
      } catch {
        throw new CommandRefused(`--apps: "${id}" is not an app_proto_id (0x0000–0xffff, e.g. 0x0201)`);
      }
    });
  }
  if (opts.ops !== undefined) {
    r.ops = splitList(opts.ops, "--ops");
    checkGrammar(`ops = ${r.ops.join(",")}`, "--ops", "ops are 1–64 of a-z 0-9 _ . - (e.g. mailbox.send)");
  }
  if (opts.topics !== undefined) {
    checkGrammar(
      `topics ^= ${opts.topics}`,
      "--topics",
      "a prefix is 1–256 printable characters without spaces",
    );
    r.topics = opts.topics;
  }
  if (opts.ttl !== undefined) r.ttlSeconds = parseDuration(opts.ttl);
  if (opts.rps !== undefined) r.rps = parseCount(opts.rps, "--rps");
  if (opts.bytes !== undefined) r.bytes = parseCount(opts.bytes, "--bytes");
  return r;
}

/** The caveats that say the same as the flags; `--ttl` counts from `nowSeconds`. */
export function restrictionCaveats(r: Restrictions, nowSeconds: number): CaveatRule[] {
  const rules: CaveatRule[] = [];
  if (r.apps) rules.push({ kind: "apps", apps: r.apps });
  if (r.ops) rules.push({ kind: "ops", ops: r.ops });
  if (r.topics !== undefined) rules.push({ kind: "topics", prefix: r.topics });
  if (r.ttlSeconds !== undefined) rules.push({ kind: "expires", at: nowSeconds + r.ttlSeconds });
  if (r.rps !== undefined) rules.push({ kind: "rps", max: r.rps });
  if (r.bytes !== undefined) rules.push({ kind: "bytes", max: r.bytes });
  return rules;
}

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** `3600`, `45s`, `30m`, `1h`, `7d` → seconds. */
export function parseDuration(text: string): number {
  const match = /^(\d{1,12})([smhd]?)$/.exec(text.trim());
  const seconds = match ? Number(match[1]) * (UNIT_SECONDS[match[2] || "s"] ?? 1) : Number.NaN;
  if (!Number.isSafeInteger(seconds) || seconds <= 0) {
    throw new CommandRefused(`--ttl must be a positive duration like 3600, 30m, 1h or 7d, got "${text}"`);
  }
  return seconds;
}

function parseCount(text: string, flag: string): number {
  const n = /^\d{1,15}$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(n)) throw new CommandRefused(`${flag} must be a whole number ≥ 0, got "${text}"`);
  return n;
}

function splitList(text: string, flag: string): string[] {
  const items = text.split(",").map((s) => s.trim());
  if (items.some((s) => s === ""))
    throw new CommandRefused(`${flag} is a comma-separated list without empty items, got "${text}"`);
  return items;
}

function checkGrammar(caveat: string, flag: string, hint: string): void {
  try {
    parseCaveat(caveat);
  } catch (err) {
    if (err instanceof CapError) throw new CommandRefused(`${flag}: ${hint}`);
    throw err;
  }
}
