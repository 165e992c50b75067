import { AppProtoRange } from "@omnigate/oap";
import { describe, expect, it } from "vitest";
import { formatAppProtoId, idRange, parseAppProtoId } from "../src/index.js";

describe("app_proto_id notation and ranges", () => {
  it("parses only 0x and four lowercase hex digits", () => {
    expect(parseAppProtoId("0x1001")).toBe(0x1001);
    expect(parseAppProtoId("0x0000")).toBe(0);
    expect(parseAppProtoId("0x1001 ")).toBeUndefined();
    expect(parseAppProtoId("0X1001")).toBeUndefined();
    expect(parseAppProtoId("0x10A1")).toBeUndefined();
    expect(parseAppProtoId("0x101")).toBeUndefined();
    expect(parseAppProtoId("4097")).toBeUndefined();
  });

  it("formats back to the same notation and refuses non-16-bit ids", () => {
    expect(formatAppProtoId(0x1001)).toBe("0x1001");
    expect(formatAppProtoId(0xabc)).toBe("0x0abc");
    expect(() => formatAppProtoId(0x10000)).toThrow(RangeError);
    expect(() => formatAppProtoId(-1)).toThrow(RangeError);
  });

  it("classifies the edges of each range as the codec defines them", () => {
    expect(idRange(0)).toBe("control");
    expect(idRange(AppProtoRange.platform[0])).toBe("platform");
    expect(idRange(AppProtoRange.platform[1])).toBe("platform");
    expect(idRange(AppProtoRange.registered[0])).toBe("registered");
    expect(idRange(AppProtoRange.registered[1])).toBe("registered");
    expect(idRange(AppProtoRange.private[0])).toBe("private");
    expect(idRange(AppProtoRange.private[1])).toBe("private");
  });
});
