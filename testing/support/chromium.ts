import { createHash, X509Certificate } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium } from "playwright-core";

/** Debian's chromium (`.ci/run` installs it): tests never download a browser. */
export const CHROMIUM = "/usr/bin/chromium";

const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Headless Chromium with a fresh profile; `close()` stops it and removes the profile. */
export async function launchChromium(
  /** More command-line switches, e.g. trust for a test certificate. */
  extraArgs: string[] = [],
  /** gpu: keep the GPU process (WebGL through SwiftShader), for pages that draw with WebGL. */
  options: { gpu?: boolean } = {},
): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (see .ci/run)`);
  const profile = mkdtempSync(join(tmpdir(), "omnigate-chromium-"));
  try {
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [...ARGS.filter((arg) => !(options.gpu && arg === "--disable-gpu")), ...extraArgs],
    });
    return {
      context,
      async close() {
        try {
          await context.close();
        } finally {
          rmSync(profile, { recursive: true, force: true });
        }
      },
    };
  } catch (err) {
    rmSync(profile, { recursive: true, force: true });
    throw err;
  }
}

/**
 * The switch that makes Chromium accept exactly this certificate's key (base64 SHA-256 of its
 * SubjectPublicKeyInfo), as a browser whose user installed the dev CA would: the page's
 * WebSocket to a test node then passes TLS without turning certificate checks off.
 */
export function trustCertificateArg(certPem: string): string {
  const spki = new X509Certificate(certPem).publicKey.export({ type: "spki", format: "der" });
  return `--ignore-certificate-errors-spki-list=${createHash("sha256").update(spki).digest("base64")}`;
}
