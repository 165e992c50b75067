import { readFileSync } from "node:fs";
import { HEADER_LEN } from "@omnigate/oap";
import { parseOriginPolicy } from "@omnigate/sdk/internal";
import { parse as parseToml } from "smol-toml";
import { type AppInput, type AppSettings, appsFromToml, resolveApps } from "./apps.js";
import { clusterNodeUrls } from "./cluster-nodes.js";
import { checkEngineSettings } from "./engine-settings.js";
import { ConfigError } from "./error.js";
import { checkPrivacySettings, positiveDecimal } from "./privacy-settings.js";
import { NO_QUOTAS, parseQuotaRules, QuotaRuleError, type QuotaRules } from "./quota-rules.js";
import {
  CONFIG_SCHEMA,
  type ConfigEntry,
  type ConfigKey,
  envName,
  flagName,
  type NodeConfig,
} from "./schema.js";

export { ConfigError } from "./error.js";

export interface LoadOptions {
  /** TOML file path (`--config`). */
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** Raw flag values by key (from the CLI) or typed overrides (from code); both win over env. */
  flags?: Partial<Record<ConfigKey, string | number>>;
  /** App backends given in code, routed besides the file's `[[apps]]`. */
  apps?: AppInput[];
}

/** The node's settings plus the app backends it routes to (`[[apps]]`). */
export interface LoadedConfig extends NodeConfig {
  apps: AppSettings[];
}

type Source = "default" | "file" | "env" | "flag";

const KEYS = Object.keys(CONFIG_SCHEMA) as ConfigKey[];

/** Resolves every key with precedence flag > env > file > default, validating each value. */
export function loadConfig(options: LoadOptions = {}): LoadedConfig {
  const env = options.env ?? process.env;
  const doc = options.file ? readTomlFile(options.file) : {};
  // `[[apps]]` and the quota tables are not single settings: each is checked on its own.
  const { apps: fileApps, ...settings } = doc;
  const quotaRules = options.file ? takeQuotaRules(settings, options.file) : NO_QUOTAS;
  const fileValues = new Map<string, unknown>();
  flatten(settings, "", fileValues);
  const config: Record<string, unknown> = { quotaRules };

  for (const key of KEYS) {
    const entry = CONFIG_SCHEMA[key];
    let raw: unknown;
    let source: Source = "default";
    let where = "default";
    const flag = options.flags?.[key];
    const envValue = env[envName(entry)];
    if (flag !== undefined) {
      [raw, source, where] = [flag, "flag", `--${flagName(entry)}`];
    } else if (envValue !== undefined && envValue !== "") {
      [raw, source, where] = [envValue, "env", envName(entry)];
    } else if (fileValues.has(entry.file)) {
      [raw, source, where] = [fileValues.get(entry.file), "file", `${entry.file} in ${options.file}`];
    }
    config[key] = source === "default" ? entry.default() : coerce(entry, raw, where);
  }
  for (const unknown of fileValues.keys()) {
    if (!KEYS.some((k) => CONFIG_SCHEMA[k].file === unknown)) {
      throw new ConfigError(`unknown setting "${unknown}" in ${options.file}; known: ${knownFileKeys()}`);
    }
  }
  const checked = crossCheck(config as unknown as NodeConfig);
  const apps = [
    ...appsFromToml(fileApps, options.file ?? "the config file"),
    ...(options.apps ?? []).map((input, i) => ({ input, label: `apps[${i}] of the start options` })),
  ];
  return { ...checked, apps: resolveApps(apps, checked.registryFile) };
}

function coerce(entry: ConfigEntry, raw: unknown, where: string): string | number {
  const shown = JSON.stringify(raw);
  if (entry.kind === "int") {
    const n =
      typeof raw === "number" ? raw : typeof raw === "string" && /^\d+$/.test(raw.trim()) ? Number(raw) : NaN;
    if (!Number.isInteger(n) || n < entry.min || n > entry.max) {
      throw new ConfigError(
        `invalid ${entry.file} ${shown} (from ${where}): expected an integer from ${entry.min} to ${entry.max}`,
      );
    }
    return n;
  }
  if (entry.kind === "decimal") return positiveDecimal(raw, `${entry.file} ${shown} (from ${where})`);
  // `enabled = true` is how TOML writes a true/false setting.
  if (typeof raw === "boolean" && entry.choices?.includes(String(raw))) return String(raw);
  if (typeof raw !== "string") {
    throw new ConfigError(`invalid ${entry.file} ${shown} (from ${where}): expected a string`);
  }
  if (entry.kind === "address" || (entry.kind === "optional_address" && raw !== "")) {
    parseAddress(raw, `${entry.file} (from ${where})`);
  }
  if (entry.choices && !entry.choices.includes(raw)) {
    throw new ConfigError(
      `invalid ${entry.file} ${shown} (from ${where}): expected one of ${entry.choices.join(", ")}`,
    );
  }
  return raw;
}

/** Splits "host:port" / "[v6]:port"; port 0 asks the OS for a free one. */
export function parseAddress(value: string, what = "address"): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(value.trim());
  const port = match ? Number(match[3]) : NaN;
  if (!match || port > 65_535) {
    throw new ConfigError(`invalid ${what} "${value}": expected host:port, e.g. 127.0.0.1:9443`);
  }
  return { host: (match[1] ?? match[2]) as string, port };
}

function crossCheck(config: NodeConfig): NodeConfig {
  if (Boolean(config.tlsCert) !== Boolean(config.tlsKey)) {
    throw new ConfigError("tls.cert and tls.key go together: set both, or neither for a dev certificate");
  }
  // A START frame must still fit its header, the capability and an empty meta_len.
  if (config.maxCapLen + HEADER_LEN + 2 > config.maxFrame) {
    throw new ConfigError(
      `limits.max_cap_len (${config.maxCapLen}) leaves no room in limits.max_frame (${config.maxFrame}): ` +
        `max_cap_len + 40 must not exceed max_frame`,
    );
  }
  if (config.quotaRetryMinMs > config.quotaRetryMaxMs) {
    throw new ConfigError("quotas.retry_after_min_ms must not exceed quotas.retry_after_max_ms");
  }
  if (config.readyAtPct >= config.notReadyAtPct) {
    throw new ConfigError("readiness.ready_at_pct must be below readiness.not_ready_at_pct (hysteresis)");
  }
  if (config.defaultDeadlineMs > config.maxDeadlineMs) {
    throw new ConfigError("limits.default_deadline_ms must not exceed limits.max_deadline_ms");
  }
  checkPrivacySettings(config);
  checkEngineSettings(config);
  clusterNodeUrls(config.clusterNodes);
  try {
    parseOriginPolicy(config.wsAllowedOrigins);
  } catch (err) {
    throw new ConfigError(`invalid ws.allowed_origins: ${(err as Error).message}`);
  }
  if (config.wsListen === config.listen && !config.listen.endsWith(":0")) {
    throw new ConfigError(
      `ws.listen and listen are both ${config.listen}: give the WebSocket listener its own port`,
    );
  }
  return config;
}

function readTomlFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new ConfigError(`cannot read config file ${path}: ${(err as Error).message}`);
  }
  try {
    return parseToml(text) as Record<string, unknown>;
  } catch (err) {
    throw new ConfigError(`config file ${path} is not valid TOML: ${(err as Error).message}`);
  }
}

/** Removes the quota tables (not scalar settings) from the document and parses them. */
function takeQuotaRules(doc: Record<string, unknown>, path: string): QuotaRules {
  const quotas = doc.quotas;
  if (typeof quotas !== "object" || quotas === null || Array.isArray(quotas)) return NO_QUOTAS;
  const { apps, tenants, ...rest } = quotas as Record<string, unknown>;
  doc.quotas = rest;
  try {
    return parseQuotaRules(apps, tenants);
  } catch (err) {
    if (err instanceof QuotaRuleError) throw new ConfigError(`invalid quota rule in ${path}: ${err.message}`);
    throw err;
  }
}

function flatten(obj: Record<string, unknown>, prefix: string, out: Map<string, unknown>): void {
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date)) {
      flatten(v as Record<string, unknown>, key, out);
    } else {
      out.set(key, typeof v === "bigint" ? Number(v) : v);
    }
  }
}

function knownFileKeys(): string {
  return [
    ...KEYS.map((k) => CONFIG_SCHEMA[k].file),
    "[[apps]]",
    "[quotas.apps.*]",
    "[[quotas.tenants]]",
  ].join(", ");
}
