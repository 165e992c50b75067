import { CapError } from "./errors.js";

/**
 * The first-party caveat grammar (docs: packages/caps/README.md). One caveat is one line of
 * text `<name> <op> <value>`, single spaces, exactly these forms:
 *
 *   tenant = <u128 hex, 1–32 digits, optional 0x>
 *   apps = <app id>[,<app id>...]       ids as 0x-hex or decimal, 0–0xFFFF
 *   ops = <op>[,<op>...]                ops like mailbox.send: [a-z0-9_.-], 1–64 chars
 *   topics ^= <prefix>                  1–256 printable characters, no spaces
 *   expires < <unix seconds>
 *   not-before = <unix seconds>
 *   rps <= <n>
 *   bytes <= <n>
 *
 * Anything else (another name, operator or spacing) is unknown, and unknown caveats fail
 * closed: a verifier that cannot evaluate a restriction must not ignore it.
 */
export type CaveatRule =
  | {
      /** `tenant = …`: the token acts for this tenant only. */
      kind: "tenant";
      /** The tenant id (u128). */
      tenant: bigint;
    }
  | {
      /** `apps = …`: the token may call only these apps. */
      kind: "apps";
      /** The allowed app_proto_ids. */
      apps: number[];
    }
  | {
      /** `ops = …`: the token may perform only these operations. */
      kind: "ops";
      /** The allowed operations, such as `mailbox.send`. */
      ops: string[];
    }
  | {
      /** `topics ^= …`: the token may touch only topics under this prefix. */
      kind: "topics";
      /** The topic prefix. */
      prefix: string;
    }
  | {
      /** `expires < …`: the token is refused from this time on. */
      kind: "expires";
      /** Unix seconds. */
      at: number;
    }
  | {
      /** `not-before = …`: the token is refused before this time. */
      kind: "not-before";
      /** Unix seconds. */
      at: number;
    }
  | {
      /** `rps <= …`: a request rate limit for the quota stage. */
      kind: "rps";
      /** Requests per second. */
      max: number;
    }
  | {
      /** `bytes <= …`: a request body byte-rate limit for the quota stage. */
      kind: "bytes";
      /** Request body bytes per second. */
      max: number;
    };

const TENANT_MAX = (1n << 128n) - 1n;
const OP = /^[a-z0-9_.-]{1,64}$/;
const TOPIC_PREFIX = /^[\x21-\x7e]{1,256}$/;
const UINT = /^(0|[1-9][0-9]{0,15})$/;

/** The caveat's text in the grammar above: what goes into a token and what parseCaveat reads back. */
export function formatCaveat(rule: CaveatRule): string {
  switch (rule.kind) {
    case "tenant":
      return `tenant = ${formatTenant(rule.tenant)}`;
    case "apps":
      return `apps = ${rule.apps.map(formatAppId).join(",")}`;
    case "ops":
      return `ops = ${rule.ops.join(",")}`;
    case "topics":
      return `topics ^= ${rule.prefix}`;
    case "expires":
      return `expires < ${rule.at}`;
    case "not-before":
      return `not-before = ${rule.at}`;
    case "rps":
      return `rps <= ${rule.max}`;
    case "bytes":
      return `bytes <= ${rule.max}`;
  }
}

/** Parses one caveat; throws CapError(`forbidden`) for anything outside the grammar. */
export function parseCaveat(text: string): CaveatRule {
  const space1 = text.indexOf(" ");
  const space2 = text.indexOf(" ", space1 + 1);
  if (space1 <= 0 || space2 < 0) throw unknown(text);
  const name = text.slice(0, space1);
  const op = text.slice(space1 + 1, space2);
  const value = text.slice(space2 + 1);
  switch (`${name} ${op}`) {
    case "tenant =":
      return { kind: "tenant", tenant: parseTenant(value, text) };
    case "apps =":
      return { kind: "apps", apps: list(value, text).map((id) => parseAppId(id, text)) };
    case "ops =": {
      const ops = list(value, text);
      if (!ops.every((o) => OP.test(o))) throw unknown(text);
      return { kind: "ops", ops };
    }
    case "topics ^=":
      if (!TOPIC_PREFIX.test(value)) throw unknown(text);
      return { kind: "topics", prefix: value };
    case "expires <":
      return { kind: "expires", at: parseUint(value, text) };
    case "not-before =":
      return { kind: "not-before", at: parseUint(value, text) };
    case "rps <=":
      return { kind: "rps", max: parseUint(value, text) };
    case "bytes <=":
      return { kind: "bytes", max: parseUint(value, text) };
    default:
      throw unknown(text);
  }
}

/** A tenant id as caveats write it: 0x + 32 lowercase hex digits. */
export function formatTenant(tenant: bigint): string {
  return `0x${tenant.toString(16).padStart(32, "0")}`;
}

/** An app id as caveats write it: 0x-prefixed, four lowercase hex digits. */
export function formatAppId(id: number): string {
  return `0x${id.toString(16).padStart(4, "0")}`;
}

/** Accepts `0x`-prefixed or bare hex, 1–32 digits. */
export function parseTenant(value: string, caveat = value): bigint {
  const digits = value.startsWith("0x") ? value.slice(2) : value;
  if (!/^[0-9a-fA-F]{1,32}$/.test(digits)) throw unknown(caveat);
  const tenant = BigInt(`0x${digits}`);
  if (tenant > TENANT_MAX) throw unknown(caveat);
  return tenant;
}

/** Accepts `0x`-hex or decimal, 0–0xFFFF. */
export function parseAppId(value: string, caveat = value): number {
  const id = /^0x[0-9a-fA-F]{1,4}$/.test(value)
    ? Number.parseInt(value.slice(2), 16)
    : UINT.test(value)
      ? Number(value)
      : Number.NaN;
  if (!Number.isInteger(id) || id < 0 || id > 0xffff) throw unknown(caveat);
  return id;
}

function list(value: string, caveat: string): string[] {
  const items = value.split(",");
  if (items.length === 0 || items.length > 64 || items.some((i) => i.length === 0)) throw unknown(caveat);
  return items;
}

function parseUint(value: string, caveat: string): number {
  if (!UINT.test(value)) throw unknown(caveat);
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw unknown(caveat);
  return n;
}

function unknown(caveat: string): CapError {
  const shown = caveat.length > 80 ? `${caveat.slice(0, 80)}…` : caveat;
  return new CapError("forbidden", `unknown caveat ${JSON.stringify(shown)}: this node cannot evaluate it`);
}
