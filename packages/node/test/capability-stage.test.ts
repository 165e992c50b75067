import type { VerifiedCap } from "@omnigate/caps";
import { describe, expect, it } from "vitest";
import type { IncomingRequest } from "../../sdk/src/internal.js";
import type { Authority } from "../src/auth/authority.js";
import { CapabilityStage } from "../src/auth/capability-stage.js";

/** An authority that accepts every token and counts the full verifications. */
function countingAuthority() {
  const counts = { verify: 0 };
  const authority = {
    enabled: true,
    verify(bytes: Uint8Array | undefined) {
      counts.verify++;
      return { tokenId: Buffer.from(bytes ?? []).toString("hex") } as unknown as VerifiedCap;
    },
    authorize() {},
    grantWindow: () => ({ until: Number.POSITIVE_INFINITY, keys: 0, revocations: 0 }),
    grantStands: () => true,
  } as unknown as Authority;
  return { authority, counts };
}

/** A connection with a bound capability, whose close the test triggers. */
function connection(cap: number) {
  const closeListeners: Array<() => void> = [];
  return {
    boundCap: Uint8Array.of(cap),
    locals: new Map<string, unknown>(),
    onClose: (listener: () => void) => closeListeners.push(listener),
    close: () => {
      for (const listener of closeListeners) listener();
    },
  };
}

const request = (conn: ReturnType<typeof connection>) =>
  ({
    appProtoId: 0x0101,
    tenantId: 0n,
    meta: { op: "x" },
    cap: new Uint8Array(0),
    connection: conn,
    startBodyBytes: 0,
  }) as unknown as IncomingRequest;

describe("CapabilityStage", () => {
  it("verifies a connection's capability once, whatever other connections send in between", () => {
    const { authority, counts } = countingAuthority();
    const stage = new CapabilityStage(authority, () => "svc");
    const a = connection(1);
    const b = connection(2);
    stage.check(request(a), 1);
    stage.check(request(a), 2);
    expect(counts.verify).toBe(1);
    stage.check(request(b), 3);
    stage.check(request(a), 4);
    stage.check(request(b), 5);
    expect(counts.verify).toBe(2);
    expect(stage.check(request(a), 6)?.tokenId).toBe("01");
    expect(stage.check(request(b), 7)?.tokenId).toBe("02");
  });

  it("lets go of a closed connection it remembered", () => {
    const { authority } = countingAuthority();
    const stage = new CapabilityStage(authority, () => "svc");
    const a = connection(1);
    stage.check(request(a), 1);
    const remembered = () => (stage as unknown as { lastConnection?: unknown }).lastConnection;
    expect(remembered()).toBe(a);
    a.close();
    expect(remembered()).toBeUndefined();
  });
});
