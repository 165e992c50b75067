import { formatAppProtoId } from "@omnigate/oap";
import { normalizeFingerprint, parseNodeUrl } from "@omnigate/sdk";
import { ConfigError } from "./error.js";
import { registeredAppIds } from "./registry-ids.js";

/** One app backend the node routes to: an `[[apps]]` entry of the config file, resolved. */
export interface AppSettings {
  id: number;
  name: string;
  /** oap+tls://host:port of the backend (built with the SDK's serve()). */
  backend: string;
  /** PEM file of the CA that signed the backend's certificate; "" = none. */
  caFile: string;
  /** Pinned SHA-256 fingerprint of the backend's certificate; "" = none. */
  fingerprint: string;
  /** Development only: accept any backend certificate. */
  insecure: boolean;
  maxInflight: number;
  timeoutMs: number;
  poolSize: number;
  bufferBytes: number;
}

/** An app as given in code (StartOptions.apps) or TOML: id, name and backend, the rest optional. */
export type AppInput = Partial<Omit<AppSettings, "id">> &
  Pick<AppSettings, "name" | "backend"> & {
    id: number | string;
  };

interface AppIntKey {
  file: string;
  min: number;
  max: number;
  default: number;
  doc: string;
}

/** The numeric keys of an `[[apps]]` entry: their defaults and bounds live here, nowhere else. */
export const APP_INT_KEYS = {
  maxInflight: {
    file: "max_inflight",
    min: 1,
    max: 65_536,
    default: 256,
    doc: "streams open to this backend at once, across the pool; more get 503 overloaded",
  },
  timeoutMs: {
    file: "timeout_ms",
    min: 1,
    max: 3_600_000,
    default: 10_000,
    doc: "how long the backend may take to start its reply, and to send each next frame while the node waits for it (ms); past it: 504 backend_timeout",
  },
  poolSize: {
    file: "pool_size",
    min: 1,
    max: 64,
    default: 2,
    doc: "OAP connections kept to the backend; streams are spread over them",
  },
  bufferBytes: {
    file: "buffer_bytes",
    min: 64 * 1024,
    max: 256 * 1024 * 1024,
    default: 1024 * 1024,
    doc: "reply bytes read from one backend connection and not yet taken by clients before that connection stops reading",
  },
} as const satisfies Record<string, AppIntKey>;

type AppIntName = keyof typeof APP_INT_KEYS;

/** The string and boolean keys of an `[[apps]]` entry, for the unknown-key check and the docs. */
export const APP_OTHER_KEYS = ["id", "name", "backend", "ca_file", "fingerprint", "insecure"] as const;

const FILE_KEYS: Record<string, keyof AppSettings> = {
  id: "id",
  name: "name",
  backend: "backend",
  ca_file: "caFile",
  fingerprint: "fingerprint",
  insecure: "insecure",
  ...Object.fromEntries(Object.entries(APP_INT_KEYS).map(([key, entry]) => [entry.file, key])),
};

/** First app_proto_id of the registered range; below it are the node's own services. */
export const REGISTERED_APP_MIN = 0x1000;
/** First private/experimental app_proto_id: usable without a registry entry. */
export const PRIVATE_APP_MIN = 0xf000;

/** The `apps` value of a TOML document (an array of tables) as inputs; `where` names the file. */
export function appsFromToml(value: unknown, where: string): LabelledApp[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new ConfigError(`apps in ${where} must be [[apps]] tables`);
  return value.map((entry, i) => {
    if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
      throw new ConfigError(`apps[${i}] in ${where} must be a table`);
    }
    const input: Record<string, unknown> = {};
    for (const [key, raw] of Object.entries(entry as Record<string, unknown>)) {
      const field = FILE_KEYS[key];
      if (!field) {
        throw new ConfigError(
          `unknown setting "${key}" in apps[${i}] of ${where}; known: ${Object.keys(FILE_KEYS).join(", ")}`,
        );
      }
      input[field] = typeof raw === "bigint" ? Number(raw) : raw;
    }
    return { input: input as AppInput, label: `apps[${i}] in ${where}` };
  });
}

/** An app input and where it came from, for messages: `apps[0] in node.toml`. */
export interface LabelledApp {
  input: AppInput;
  label: string;
}

/**
 * Checks and completes the apps to route. Ids below 0x1000 belong to the node's services;
 * ids in 0x1000–0xEFFF must be in the registry (read from `registryFile` only when needed);
 * private ids (0xF000–0xFFFF) need no entry.
 */
export function resolveApps(entries: LabelledApp[], registryFile: string): AppSettings[] {
  let registry: Set<number> | undefined;
  const seen = new Set<number>();
  return entries.map(({ input, label }) => {
    const id = appId(input.id, label);
    if (seen.has(id)) throw new ConfigError(`${label}: app id ${formatAppProtoId(id)} is configured twice`);
    seen.add(id);
    if (id < REGISTERED_APP_MIN) {
      throw new ConfigError(
        `${label}: app id ${formatAppProtoId(id)} is below 0x1000, the range of the node's own services; app backends use registered ids (0x1000–0xEFFF) or private ones (0xF000–0xFFFF)`,
      );
    }
    if (id < PRIVATE_APP_MIN) {
      registry ??= registeredAppIds(registryFile);
      if (!registry.has(id)) {
        throw new ConfigError(
          `${label}: app id ${formatAppProtoId(id)} is not in the app registry (${registryFile || "registry/app_proto_ids.json"}); claim it first (see REGISTRY.md), or use a private id in 0xF000–0xFFFF`,
        );
      }
    }
    return completeApp(id, input, label);
  });
}

function completeApp(id: number, input: AppInput, label: string): AppSettings {
  const name = text(input.name, `${label} name`);
  if (name === "") throw new ConfigError(`${label}: name must not be empty`);
  const backend = text(input.backend, `${label} backend`);
  try {
    parseNodeUrl(backend);
  } catch (err) {
    throw new ConfigError(`${label}: invalid backend: ${(err as Error).message}`);
  }
  const caFile = input.caFile === undefined ? "" : text(input.caFile, `${label} ca_file`);
  const fingerprint = input.fingerprint === undefined ? "" : text(input.fingerprint, `${label} fingerprint`);
  if (fingerprint !== "") {
    try {
      normalizeFingerprint(fingerprint);
    } catch (err) {
      throw new ConfigError(`${label}: ${(err as Error).message}`);
    }
  }
  const insecure = input.insecure ?? false;
  if (typeof insecure !== "boolean") throw new ConfigError(`${label}: insecure must be true or false`);
  if (insecure && (caFile !== "" || fingerprint !== "")) {
    throw new ConfigError(`${label}: insecure = true cannot be combined with ca_file or fingerprint`);
  }
  const ints = {} as Record<AppIntName, number>;
  for (const [key, entry] of Object.entries(APP_INT_KEYS) as Array<[AppIntName, AppIntKey]>) {
    const raw = input[key];
    const value = raw === undefined ? entry.default : raw;
    if (typeof value !== "number" || !Number.isInteger(value) || value < entry.min || value > entry.max) {
      throw new ConfigError(
        `${label}: invalid ${entry.file} ${JSON.stringify(raw)}: expected an integer from ${entry.min} to ${entry.max}`,
      );
    }
    ints[key] = value;
  }
  return { id, name, backend, caFile, fingerprint, insecure, ...ints };
}

/** `0x1001`, `"0x1001"` or 4097. */
function appId(raw: unknown, label: string): number {
  const id =
    typeof raw === "number"
      ? raw
      : typeof raw === "string" && /^0x[0-9a-f]{1,4}$/i.test(raw.trim())
        ? Number.parseInt(raw.trim().slice(2), 16)
        : Number.NaN;
  if (!Number.isInteger(id) || id < 0 || id > 0xffff) {
    throw new ConfigError(
      `${label}: invalid id ${JSON.stringify(raw)}: expected an app_proto_id such as "0x1001"`,
    );
  }
  return id;
}

function text(raw: unknown, what: string): string {
  if (typeof raw !== "string") throw new ConfigError(`${what} must be a string, got ${JSON.stringify(raw)}`);
  return raw;
}
