import { describe, expect, it } from "vitest";
import { webSocketUrl } from "../src/client/url.js";
import { DEFAULT_WS_PORT, parseNodeUrl } from "../src/index.js";

describe("parseNodeUrl with wss://", () => {
  it("reads host and port, defaulting the port to 9444 and the path to /oap", () => {
    expect(DEFAULT_WS_PORT).toBe(9444);
    expect(parseNodeUrl("wss://node.example:7001/oap")).toEqual({
      transport: "wss",
      host: "node.example",
      port: 7001,
    });
    expect(parseNodeUrl("wss://node.example")).toEqual({
      transport: "wss",
      host: "node.example",
      port: 9444,
    });
    expect(parseNodeUrl("wss://node.example/")).toEqual({
      transport: "wss",
      host: "node.example",
      port: 9444,
    });
    expect(parseNodeUrl("wss://[::1]:9000/oap")).toEqual({ transport: "wss", host: "::1", port: 9000 });
  });

  it("keeps an explicit :443, which the URL parser drops as wss's default port", () => {
    expect(parseNodeUrl("wss://node.example:443/oap").port).toBe(443);
    expect(parseNodeUrl("wss://[::1]:443").port).toBe(443);
  });

  it("refuses any path but /oap", () => {
    for (const url of ["wss://node.example/x", "wss://node.example/oap/", "wss://node.example/oap/x"]) {
      expect(() => parseNodeUrl(url)).toThrow(TypeError);
      expect(() => parseNodeUrl(url)).toThrow(/only on \/oap/);
    }
  });

  it("refuses plain ws://, user information, a query and a fragment", () => {
    expect(() => parseNodeUrl("ws://node.example/oap")).toThrow(/only with TLS: wss:\/\//);
    expect(() => parseNodeUrl("wss://user:secret@node.example/oap")).toThrow(/user information/);
    expect(() => parseNodeUrl("wss://user:secret@node.example/oap")).not.toThrow(/secret/);
    expect(() => parseNodeUrl("wss://@node.example/oap")).toThrow(/user information/);
    expect(() => parseNodeUrl("wss://node.example/oap?tenant=1")).toThrow(/query/);
    expect(() => parseNodeUrl("wss://node.example/oap?")).toThrow(/query/);
    expect(() => parseNodeUrl("wss://node.example/oap#x")).toThrow(/fragment/);
  });

  it("names both forms when the scheme is wrong", () => {
    expect(() => parseNodeUrl("https://node.example")).toThrow(
      /oap\+tls:\/\/host:port or wss:\/\/host:port\/oap/,
    );
  });

  it("builds the URL a WebSocket opens, bracketing an IPv6 host", () => {
    expect(webSocketUrl(parseNodeUrl("wss://node.example"))).toBe("wss://node.example:9444/oap");
    expect(webSocketUrl(parseNodeUrl("wss://[::1]:9000/oap"))).toBe("wss://[::1]:9000/oap");
  });
});
