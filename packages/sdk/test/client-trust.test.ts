import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { AppProtoId } from "@omnigate/oap";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../../../testing/support/temp-dir.js";
import { type ConnectOptions, connect, OapConnectionError } from "../src/index.js";
import { startTestNode, type TestNode } from "./support/node.js";

const ECHO = AppProtoId.ECHO;

describe("TLS trust", () => {
  let t: TestNode;
  let other: TestNode;
  const dir = tempDir("omnigate-sdk-trust-");

  beforeAll(async () => {
    // A second node has its own dev CA: one that did not sign the first node's certificate.
    [t, other] = await Promise.all([startTestNode(), startTestNode()]);
  });
  afterAll(async () => {
    await Promise.all([t?.stop(), other?.stop()]);
    dir.remove();
  });

  async function works(options: ConnectOptions): Promise<void> {
    const client = await connect(t.node.oapUrl, options);
    try {
      const res = await client.request(ECHO, { body: "trusted" });
      expect(res.body.toString()).toBe("trusted");
    } finally {
      await client.close();
    }
  }

  async function refused(options: ConnectOptions): Promise<OapConnectionError> {
    const error = await connect(t.node.oapUrl, options).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OapConnectionError);
    expect(error).toMatchObject({ reason: "tls_untrusted", retryable: false });
    return error as OapConnectionError;
  }

  it("connects with the node's CA", async () => {
    await works({ ca: t.node.caPem });
  });

  it("connects with the node's CA from a file", async () => {
    const caFile = join(dir.path, "ca.pem");
    writeFileSync(caFile, t.node.caPem ?? "");
    await works({ caFile });
  });

  it("trusts $RON_CA_FILE when no trust option is given", async () => {
    const caFile = join(dir.path, "ca-env.pem");
    writeFileSync(caFile, t.node.caPem ?? "");
    process.env.RON_CA_FILE = caFile;
    try {
      await works({});
    } finally {
      delete process.env.RON_CA_FILE;
    }
  });

  it("refuses a certificate signed by another CA", async () => {
    expect(other.node.caPem).not.toBe(t.node.caPem);
    await refused({ ca: other.node.caPem });
  });

  it("refuses the dev certificate with the system trust store", async () => {
    await refused({});
  });

  it("connects with the server certificate's pinned fingerprint and no CA", async () => {
    await works({ fingerprint: t.node.tls.certFingerprint });
    await works({ fingerprint: t.node.tls.certFingerprint.replaceAll(":", "").toLowerCase() });
  });

  it("connects with the CA fingerprint pinned next to the CA", async () => {
    await works({ ca: t.node.caPem, fingerprint: t.node.caFingerprint });
  });

  it("connects with only the printed CA fingerprint pinned (the node sends its chain)", async () => {
    await works({ fingerprint: t.node.caFingerprint as string });
  });

  it("refuses a wrong pin", async () => {
    const error = await refused({ fingerprint: other.node.tls.certFingerprint });
    expect(error.message).toMatch(/pinned fingerprint/);
    await refused({ ca: t.node.caPem, fingerprint: other.node.tls.certFingerprint });
  });

  it("connects with insecure: true", async () => {
    await works({ insecure: true });
  });

  it("reports a refused connection as retryable", async () => {
    await t.node.close();
    const error = await connect(t.node.oapUrl, { ca: t.node.caPem }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OapConnectionError);
    expect(error).toMatchObject({ reason: "connect_failed", retryable: true });
  });
});
