import { describe, expect, it } from "vitest";
import { originAllowed, parseOriginPolicy } from "../src/internal.js";

describe("ws.allowed_origins", () => {
  it("by default lets in pages of the host name the client dialled, on any port or scheme, and no other", () => {
    const policy = parseOriginPolicy("");
    expect(originAllowed(policy, "http://127.0.0.1:8080", "127.0.0.1:9444")).toBe(true);
    expect(originAllowed(policy, "https://Node.Example", "node.example:9444")).toBe(true);
    expect(originAllowed(policy, "http://localhost:8080", "127.0.0.1:9444")).toBe(false);
    expect(originAllowed(policy, "https://attacker.example", "node.example:9444")).toBe(false);
    expect(originAllowed(policy, "null", "127.0.0.1:9444")).toBe(false);
    expect(originAllowed(policy, "http://[::1]:8080", "[::1]:9444")).toBe(true);
  });

  it("checks no origin on clients that send none (not a browser)", () => {
    expect(originAllowed(parseOriginPolicy(""), undefined, "127.0.0.1:9444")).toBe(true);
    expect(originAllowed(parseOriginPolicy("https://app.example"), undefined, "127.0.0.1:9444")).toBe(true);
  });

  it("takes a list of exact origins, or * for any", () => {
    const policy = parseOriginPolicy(" https://app.example , http://localhost:5173 ");
    expect(originAllowed(policy, "https://app.example", "node:9444")).toBe(true);
    expect(originAllowed(policy, "http://localhost:5173", "node:9444")).toBe(true);
    expect(originAllowed(policy, "http://localhost:5174", "node:9444")).toBe(false);
    expect(originAllowed(policy, "http://app.example", "node:9444")).toBe(false);
    expect(originAllowed(parseOriginPolicy("*"), "https://anyone.example", "node:9444")).toBe(true);
  });

  it("refuses entries that are not origins, naming them", () => {
    expect(() => parseOriginPolicy("app.example")).toThrow(/"app.example" is not an origin/);
    expect(() => parseOriginPolicy("https://app.example/path")).toThrow(/nothing after it/);
  });
});
