import { X509Certificate } from "node:crypto";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { generate } from "selfsigned";

export interface TlsMaterial {
  cert: string;
  key: string;
  /** Set when the node made its own dev CA. */
  caFile?: string;
  caPem?: string;
  caFingerprint?: string;
  certFingerprint: string;
  created: boolean;
}

const DAY_MS = 86_400_000;

/**
 * The node's TLS certificate: the configured one, or a dev CA plus a server certificate it
 * signed, created in `<dataDir>/tls` on first start and reused after. Clients trust the CA
 * file (or pin its fingerprint); private keys are written with mode 0600.
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
  const paths = {
    ca: join(dir, "ca.pem"),
    caKey: join(dir, "ca-key.pem"),
    cert: join(dir, "server.pem"),
    key: join(dir, "server-key.pem"),
  };
  const existing = await readExisting(paths);
  if (existing)
    return { ...existing, cert: chain(existing.cert, existing.caPem), caFile: paths.ca, created: false };

  await mkdir(dir, { recursive: true, mode: 0o700 });
  const now = Date.now();
  const ca = await generate([{ name: "commonName", value: "Omnigate dev CA" }], {
    keyType: "ec",
    curve: "P-256",
    algorithm: "sha256",
    notBeforeDate: new Date(now - DAY_MS),
    notAfterDate: new Date(now + 3650 * DAY_MS),
    extensions: [
      { name: "basicConstraints", cA: true, critical: true },
      { name: "keyUsage", keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  const server = await generate([{ name: "commonName", value: "omnigate node" }], {
    keyType: "ec",
    curve: "P-256",
    algorithm: "sha256",
    notBeforeDate: new Date(now - DAY_MS),
    notAfterDate: new Date(now + 825 * DAY_MS),
    ca: { key: ca.private, cert: ca.cert },
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
  await writeSecret(paths.caKey, ca.private);
  await writeSecret(paths.key, server.private);
  await writeFile(paths.ca, ca.cert);
  await writeFile(paths.cert, server.cert);
  return {
    cert: chain(server.cert, ca.cert),
    key: server.private,
    caFile: paths.ca,
    caPem: ca.cert,
    caFingerprint: fingerprint(ca.cert),
    certFingerprint: fingerprint(server.cert),
    created: true,
  };
}

/** Server certificate followed by its CA, so clients can pin either one. */
function chain(leaf: string, ca: string): string {
  return `${leaf.trim()}\n${ca.trim()}\n`;
}

/** SHA-256 fingerprint of a PEM certificate, as AA:BB:… */
export function fingerprint(pem: string): string {
  return new X509Certificate(pem).fingerprint256;
}

async function readExisting(paths: Record<"ca" | "caKey" | "cert" | "key", string>) {
  try {
    const [caPem, cert, key] = await Promise.all([
      readFile(paths.ca, "utf8"),
      readFile(paths.cert, "utf8"),
      readFile(paths.key, "utf8"),
    ]);
    const leaf = new X509Certificate(cert);
    // Renew a week before expiry rather than fail clients at a bad moment.
    if (Date.parse(leaf.validTo) - Date.now() < 7 * DAY_MS) return undefined;
    return { cert, key, caPem, caFingerprint: fingerprint(caPem), certFingerprint: leaf.fingerprint256 };
  } catch {
    return undefined;
  }
}

async function writeSecret(path: string, pem: string): Promise<void> {
  await writeFile(path, pem, { mode: 0o600 });
  await chmod(path, 0o600);
}
