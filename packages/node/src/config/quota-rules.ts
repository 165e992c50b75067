/**
 * Quota rules from the TOML file: a rate and burst per app, optional bytes/s, and
 * per-tenant overrides. They are tables, not scalars, so they have no flag or env name.
 *
 * ```toml
 * [quotas.apps."0x0101"]
 * rate = 100            # requests per second, per tenant
 * burst = 200           # requests a tenant may send at once
 * bytes_per_sec = 1048576
 * bytes_burst = 4194304
 *
 * [[quotas.tenants]]
 * tenant = "0x2a"
 * app = "0x0101"
 * rate = 1000
 * burst = 2000
 * ```
 */
export interface RateRule {
  /** Requests per second. */
  rate: number;
  /** Bucket size in requests. */
  burst: number;
  /** Request body bytes per second; undefined = no byte quota. */
  bytesPerSec: number | undefined;
  /** Byte bucket size; defaults to one second of bytes_per_sec. */
  bytesBurst: number | undefined;
}

export interface TenantOverride {
  tenant: bigint;
  app: number;
  rule: RateRule;
}

export interface QuotaRules {
  apps: Map<number, RateRule>;
  tenants: TenantOverride[];
}

export const NO_QUOTAS: QuotaRules = { apps: new Map(), tenants: [] };

/** What a rule table failed with; load.ts turns it into a ConfigError naming the file. */
export class QuotaRuleError extends Error {}

const U128_MAX = (1n << 128n) - 1n;

export function parseQuotaRules(apps: unknown, tenants: unknown): QuotaRules {
  const rules: QuotaRules = { apps: new Map(), tenants: [] };
  if (apps !== undefined) {
    if (!isTable(apps))
      throw new QuotaRuleError('quotas.apps must be a table of apps, e.g. [quotas.apps."0x0101"]');
    for (const [key, value] of Object.entries(apps)) {
      const app = parseAppId(key, `quotas.apps."${key}"`);
      rules.apps.set(app, parseRule(value, `quotas.apps."${key}"`, undefined));
    }
  }
  if (tenants !== undefined) {
    if (!Array.isArray(tenants)) {
      throw new QuotaRuleError("quotas.tenants must be an array of tables: [[quotas.tenants]]");
    }
    tenants.forEach((value, i) => {
      const where = `quotas.tenants[${i}]`;
      if (!isTable(value)) throw new QuotaRuleError(`${where} must be a table`);
      const tenant = parseTenant(value.tenant, `${where}.tenant`);
      const app = parseAppId(value.app, `${where}.app`);
      const { tenant: _t, app: _a, ...fields } = value;
      rules.tenants.push({ tenant, app, rule: parseRule(fields, where, rules.apps.get(app)) });
    });
  }
  return rules;
}

function parseRule(value: unknown, where: string, inherit: RateRule | undefined): RateRule {
  if (!isTable(value)) throw new QuotaRuleError(`${where} must be a table with rate and burst`);
  const known = new Set(["rate", "burst", "bytes_per_sec", "bytes_burst"]);
  for (const key of Object.keys(value)) {
    if (!known.has(key)) {
      throw new QuotaRuleError(`unknown setting "${key}" in ${where}; known: ${[...known].join(", ")}`);
    }
  }
  const rate = positive(value.rate ?? inherit?.rate, `${where}.rate`);
  const burst = positive(value.burst ?? inherit?.burst ?? rate, `${where}.burst`);
  if (burst < 1) throw new QuotaRuleError(`${where}.burst must be at least 1`);
  const bytesRaw = value.bytes_per_sec ?? inherit?.bytesPerSec;
  const bytesPerSec = bytesRaw === undefined ? undefined : positive(bytesRaw, `${where}.bytes_per_sec`);
  const burstRaw = value.bytes_burst ?? (value.bytes_per_sec === undefined ? inherit?.bytesBurst : undefined);
  const bytesBurst =
    bytesPerSec === undefined ? undefined : positive(burstRaw ?? bytesPerSec, `${where}.bytes_burst`);
  return { rate, burst, bytesPerSec, bytesBurst };
}

function positive(value: unknown, where: string): number {
  const n = typeof value === "bigint" ? Number(value) : value;
  if (typeof n !== "number" || !Number.isFinite(n) || n <= 0) {
    throw new QuotaRuleError(`${where} must be a number above 0, got ${JSON.stringify(String(value))}`);
  }
  return n;
}

/** "0x0101", "257" or 257. */
function parseAppId(value: unknown, where: string): number {
  const n = typeof value === "number" ? value : typeof value === "string" ? parseInteger(value) : undefined;
  if (n === undefined || !Number.isInteger(n) || n < 0 || n > 0xffff) {
    throw new QuotaRuleError(`${where}: app must be an app_proto_id from 0 to 0xffff, e.g. "0x0101"`);
  }
  return n;
}

/** "0x2a", "42" or 42: a u128. */
function parseTenant(value: unknown, where: string): bigint {
  let n: bigint | undefined;
  try {
    if (typeof value === "bigint") n = value;
    else if (typeof value === "number" && Number.isSafeInteger(value)) n = BigInt(value);
    else if (typeof value === "string" && /^(0x[0-9a-f]+|\d+)$/i.test(value.trim())) n = BigInt(value.trim());
  } catch {
    n = undefined;
  }
  if (n === undefined || n < 0n || n > U128_MAX) {
    throw new QuotaRuleError(`${where} must be a tenant id (u128) as "0x…" hex or decimal, e.g. "0x2a"`);
  }
  return n;
}

function parseInteger(text: string): number | undefined {
  const t = text.trim();
  if (/^0x[0-9a-f]+$/i.test(t)) return Number.parseInt(t.slice(2), 16);
  if (/^\d+$/.test(t)) return Number(t);
  return undefined;
}

function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Date);
}
