import { createPrivateKey, randomBytes, X509Certificate } from "node:crypto";
import { mkdir, readFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { generate } from "selfsigned";
import { writeAtomic } from "../fs/write-atomic.js";

export interface TlsMaterial {
  /** PEM chain the listener presents: the server certificate, then the dev CA when there is one. */
  cert: string;
  key: string;
  /** Set when the node made its own dev CA. */
  caFile?: string;
  caPem?: string;
  caFingerprint?: string;
  certFingerprint: string;
  /** The dev CA was created by this start. */
  created: boolean;
}

interface Pair {
  cert: string;
  key: string;
}

const DAY_MS = 86_400_000;
/** Renew a week before expiry rather than fail clients at a bad moment. */
const RENEW_BEFORE_MS = 7 * DAY_MS;

/**
 * The node's TLS certificate: the configured one, or a dev CA plus a server certificate it
 * signed, kept in `<dataDir>/tls`. The CA is made once and reused, so clients that trust
 * `ca.pem` or pin its fingerprint keep working when the server certificate is renewed.
 * Private keys are written with mode 0600; a pair whose key does not match is remade.
 */
export async function loadTlsMaterial(opts: {
  dataDir: string;
  cert: string;
  key: string;
}): Promise<TlsMaterial> {
  if (opts.cert) {
    const [cert, key] = await Promise.all([readFile(opts.cert, "utf8"), readFile(opts.key, "utf8")]);
    return { cert, key, certFingerprint: fingerprint(cert), created: false };
  }
  const dir = join(opts.dataDir, "tls");
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const caPaths = { cert: join(dir, "ca.pem"), key: join(dir, "ca-key.pem") };
  const serverPaths = { cert: join(dir, "server.pem"), key: join(dir, "server-key.pem") };

  let ca = await readUsablePair(caPaths);
  const created = ca === undefined;
  if (!ca) {
    ca = await createCa();
    await writePair(caPaths, ca);
  }
  let server = created ? undefined : await readUsablePair(serverPaths, ca.cert);
  if (!server) {
    server = await issueServerCert(ca);
    await writePair(serverPaths, server);
  }
  return {
    cert: `${server.cert.trim()}\n${ca.cert.trim()}\n`,
    key: server.key,
    caFile: caPaths.cert,
    caPem: ca.cert,
    caFingerprint: fingerprint(ca.cert),
    certFingerprint: fingerprint(server.cert),
    created,
  };
}

/** SHA-256 fingerprint of a PEM certificate (the first one in a chain), as AA:BB:… */
export function fingerprint(pem: string): string {
  return new X509Certificate(pem).fingerprint256;
}

type PairOptions = Pick<NonNullable<Parameters<typeof generate>[1]>, "ca" | "extensions">;

/** An EC P-256 key and a SHA-256 certificate for `commonName`, valid from a day ago (clock skew) for `days`. */
async function generatePair(commonName: string, days: number, options: PairOptions): Promise<Pair> {
  const now = Date.now();
  const generated = await generate([{ name: "commonName", value: commonName }], {
    keyType: "ec",
    curve: "P-256",
    algorithm: "sha256",
    notBeforeDate: new Date(now - DAY_MS),
    notAfterDate: new Date(now + days * DAY_MS),
    ...options,
  });
  return { cert: generated.cert, key: generated.private };
}

function createCa(): Promise<Pair> {
  // A name of its own per CA: a peer that trusts several nodes' dev CAs (dht.ca_files) finds
  // each issuer by its subject, and OpenSSL tries only the first CA whose name matches.
  return generatePair(`Omnigate dev CA ${randomBytes(4).toString("hex")}`, 3650, {
    extensions: [
      { name: "basicConstraints", cA: true, critical: true },
      { name: "keyUsage", keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
}

function issueServerCert(ca: Pair): Promise<Pair> {
  return generatePair("omnigate node", 825, {
    ca,
    extensions: [
      { name: "basicConstraints", cA: false },
      { name: "keyUsage", digitalSignature: true, critical: true },
      { name: "extKeyUsage", serverAuth: true },
      {
        name: "subjectAltName",
        altNames: [
          { type: 2, value: "localhost" },
          { type: 2, value: hostname() },
          { type: 7, ip: "127.0.0.1" },
          { type: 7, ip: "::1" },
        ],
      },
    ],
  });
}

/** A stored pair that is readable, not about to expire, matched by its key and (optionally) signed by `issuer`. */
async function readUsablePair(paths: Pair, issuer?: string): Promise<Pair | undefined> {
  try {
    const [cert, key] = await Promise.all([readFile(paths.cert, "utf8"), readFile(paths.key, "utf8")]);
    const x509 = new X509Certificate(cert);
    if (Date.parse(x509.validTo) - Date.now() < RENEW_BEFORE_MS) return undefined;
    if (!x509.checkPrivateKey(createPrivateKey(key))) return undefined;
    if (issuer && !x509.verify(new X509Certificate(issuer).publicKey)) return undefined;
    return { cert, key };
  } catch {
    return undefined;
  }
}

/** Writes key then certificate, each through a temp file and rename, so a crash never leaves half a file. */
async function writePair(paths: Pair, pair: Pair): Promise<void> {
  await writeAtomic(paths.key, pair.key, 0o600);
  await writeAtomic(paths.cert, pair.cert, 0o644);
}
