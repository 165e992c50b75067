import {
  type CapContext,
  type CaveatRule,
  formatAppId,
  formatTenant,
  parseAppId,
  parseTenant,
} from "@omnigate/caps";
import { CommandRefused } from "../errors.js";

export interface ContextOptions {
  tenant?: string;
  app?: string;
  op?: string;
  topic?: string;
}

/**
 * The request `verify` checks the token against. What the user leaves out takes a value the
 * token itself allows (its tenant, the first app and op every `apps`/`ops` caveat lists,
 * the longest topic prefix), so a bare `verify` answers "is this token good for anything":
 * MAC, key, revocation, expiry. Contradictory caveats still fail, as they should.
 */
export function verifyContext(opts: ContextOptions, rules: Array<CaveatRule | undefined>): CapContext {
  const known = rules.filter((r): r is CaveatRule => r !== undefined);
  const tenant =
    opts.tenant !== undefined
      ? parseFlag(
          () => parseTenant(opts.tenant as string),
          `--tenant must be 1–32 hex digits, got "${opts.tenant}"`,
        )
      : (known.find((r) => r.kind === "tenant")?.tenant ?? 0n);
  const app =
    opts.app !== undefined
      ? parseFlag(
          () => parseAppId(opts.app as string),
          `--app must be an app_proto_id like 0x0201, got "${opts.app}"`,
        )
      : (firstCommon(known.flatMap((r) => (r.kind === "apps" ? [r.apps] : []))) ?? 0);
  const op = opts.op ?? firstCommon(known.flatMap((r) => (r.kind === "ops" ? [r.ops] : [])));
  const topic =
    opts.topic ??
    known
      .flatMap((r) => (r.kind === "topics" ? [r.prefix] : []))
      .reduce<string | undefined>(
        (longest, p) => (longest === undefined || p.length > longest.length ? p : longest),
        undefined,
      );
  return { tenant, app, ...(op === undefined ? {} : { op }), ...(topic === undefined ? {} : { topic }) };
}

/** The context as JSON-friendly text, for output. */
export function contextView(ctx: CapContext): { tenant: string; app: string; op?: string; topic?: string } {
  return {
    tenant: formatTenant(ctx.tenant),
    app: formatAppId(ctx.app),
    ...(ctx.op === undefined ? {} : { op: ctx.op }),
    ...(ctx.topic === undefined ? {} : { topic: ctx.topic }),
  };
}

/** The first item of the first list that every list holds; else the first item, which will fail. */
function firstCommon<T>(lists: T[][]): T | undefined {
  const [first, ...rest] = lists;
  if (!first) return undefined;
  return first.find((item) => rest.every((l) => l.includes(item))) ?? first[0];
}

function parseFlag<T>(parse: () => T, message: string): T {
  try {
    return parse();
  } catch {
    throw new CommandRefused(message);
  }
}
