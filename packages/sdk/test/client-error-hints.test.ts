import { describe, expect, it } from "vitest";
import { OapConnectionError, OapRequestError, OapTimeoutError } from "../src/index.js";

describe("every client error says what to do (hint) and keeps code, reason, corrId", () => {
  it("connection failures point at the node and its CA", () => {
    const down = new OapConnectionError("cannot connect", { reason: "connect_failed" });
    expect(down.hint).toMatch(/npm start.*--node\/RON_NODE_URL/);
    const untrusted = new OapConnectionError("untrusted", { reason: "tls_untrusted", retryable: false });
    expect(untrusted.hint).toMatch(/--ca-file\/RON_CA_FILE/);
    expect(down.forStream(7n)).toMatchObject({ corrId: 7n, hint: down.hint });
  });

  it("capability refusals say to mint a new one", () => {
    for (const reason of ["cap_expired", "cap_revoked"]) {
      const error = new OapRequestError(401, { reason, message: "no" }, 3n);
      expect(error).toMatchObject({ code: 401, reason, corrId: 3n });
      expect(error.hint).toMatch(/ronctl cap mint/);
    }
  });

  it("a deadline has a hint; a reason with nothing to add has none", () => {
    expect(new OapTimeoutError("late").hint).toMatch(/deadline/);
    expect(new OapRequestError(500, { reason: "internal" }, undefined).hint).toBeUndefined();
  });
});
