import { readFile } from "node:fs/promises";
import { isIP } from "node:net";
import {
  type ConnectionOptions,
  type DetailedPeerCertificate,
  checkServerIdentity as defaultCheckServerIdentity,
  type PeerCertificate,
  type TLSSocket,
} from "node:tls";
import type { ConnectOptions } from "./options.js";

/** How the server certificate is checked, resolved from ConnectOptions. */
export interface TrustSettings {
  /** Options for tls.connect (ca, rejectUnauthorized, checkServerIdentity, servername). */
  tls: ConnectionOptions;
  /** Normalised pin (lowercase hex), checked again after the handshake before any byte is sent. */
  pin: string | undefined;
}

/** OpenSSL verify codes and Node's name check: the certificate is not trusted, retrying will not help. */
const UNTRUSTED_CODES = new Set([
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_DECRYPT_CERT_SIGNATURE",
  "UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY",
  "CERT_SIGNATURE_FAILURE",
  "CERT_NOT_YET_VALID",
  "CERT_HAS_EXPIRED",
  "ERROR_IN_CERT_NOT_BEFORE_FIELD",
  "ERROR_IN_CERT_NOT_AFTER_FIELD",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "CERT_CHAIN_TOO_LONG",
  "CERT_REVOKED",
  "INVALID_CA",
  "PATH_LENGTH_EXCEEDED",
  "INVALID_PURPOSE",
  "CERT_UNTRUSTED",
  "CERT_REJECTED",
  "HOSTNAME_MISMATCH",
  "ERR_TLS_CERT_ALTNAME_INVALID",
  "ERR_OAP_PIN_MISMATCH",
]);

export function isUntrustedError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && UNTRUSTED_CODES.has(code);
}

/** `AA:BB:…`, `aabb…` or `sha256:…` → 64 lowercase hex digits. */
export function normalizeFingerprint(fingerprint: string): string {
  const hex = fingerprint
    .trim()
    .replace(/^sha-?256[:/=]?/i, "")
    .replace(/[:\s-]/g, "")
    .toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(hex)) {
    throw new TypeError(
      `fingerprint "${fingerprint}" is not a SHA-256 fingerprint; expected 32 bytes as hex, e.g. AA:BB:…`,
    );
  }
  return hex;
}

/** Fingerprints (lowercase hex) of the certificate and the chain above it as the peer presented it. */
export function chainFingerprints(cert: PeerCertificate | DetailedPeerCertificate): string[] {
  const seen: string[] = [];
  let current: PeerCertificate | DetailedPeerCertificate | undefined = cert;
  while (current?.fingerprint256) {
    const fp = normalizeFingerprint(current.fingerprint256);
    if (seen.includes(fp)) break;
    seen.push(fp);
    current = (current as Partial<DetailedPeerCertificate>).issuerCertificate;
  }
  return seen;
}

export function pinError(pin: string, cert: PeerCertificate | DetailedPeerCertificate): Error | undefined {
  const presented = chainFingerprints(cert);
  if (presented.includes(pin)) return undefined;
  const error = new Error(
    `the node's certificate does not match the pinned fingerprint (presented: ${presented[0] ?? "none"})`,
  ) as Error & { code: string };
  error.code = "ERR_OAP_PIN_MISMATCH";
  return error;
}

/** The pin check run after the handshake; authoritative, since self-signed chains skip checkServerIdentity. */
export function verifyPinnedPeer(socket: TLSSocket, pin: string): Error | undefined {
  return pinError(pin, socket.getPeerCertificate(true));
}

export async function resolveTrust(options: ConnectOptions, host: string): Promise<TrustSettings> {
  const servername = options.servername ?? (isIP(host) === 0 ? host : undefined);
  const base: ConnectionOptions = servername === undefined ? {} : { servername };
  if (options.insecure) {
    if (options.ca !== undefined || options.caFile !== undefined || options.fingerprint !== undefined) {
      throw new TypeError("insecure: true cannot be combined with ca, caFile or fingerprint");
    }
    return { tls: { ...base, rejectUnauthorized: false }, pin: undefined };
  }
  const ca = await loadCa(options);
  const pin = options.fingerprint === undefined ? undefined : normalizeFingerprint(options.fingerprint);
  if (pin === undefined) {
    return { tls: { ...base, ...(ca === undefined ? {} : { ca }), rejectUnauthorized: true }, pin };
  }
  const checkServerIdentity = (hostname: string, cert: PeerCertificate) =>
    (ca === undefined ? undefined : defaultCheckServerIdentity(hostname, cert)) ?? pinError(pin, cert);
  return {
    tls: {
      ...base,
      ...(ca === undefined ? {} : { ca }),
      // With a CA the chain is verified too; a pin alone stands in for it (self-signed certs).
      rejectUnauthorized: ca !== undefined,
      checkServerIdentity,
    },
    pin,
  };
}

async function loadCa(options: ConnectOptions): Promise<ConnectionOptions["ca"]> {
  if (options.ca !== undefined && options.caFile !== undefined) {
    throw new TypeError("give either ca or caFile, not both");
  }
  if (options.caFile !== undefined) return readCaFile(options.caFile, "caFile");
  if (options.ca !== undefined || options.fingerprint !== undefined) return options.ca;
  // No trust option given: $RON_CA_FILE (e.g. the dev CA a local node printed), else the system store.
  const fromEnv = process.env[CA_FILE_ENV];
  return fromEnv ? readCaFile(fromEnv, `$${CA_FILE_ENV}`) : undefined;
}

/** The CA file's bytes; a missing or unreadable file is named with the setting that gave it. */
async function readCaFile(file: string, setting: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new TypeError(`cannot read the CA file ${file} (from ${setting}): ${why}`, { cause: error });
  }
}

/** Environment variable naming a CA file to trust when no trust option is passed. */
export const CA_FILE_ENV = "RON_CA_FILE";
