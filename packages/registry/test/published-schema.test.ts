import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { REGISTRY_SCHEMA } from "../src/index.js";

describe("registry/app_proto_ids.schema.json", () => {
  it("is the schema the code validates against", () => {
    const published = JSON.parse(
      readFileSync(new URL("../../../registry/app_proto_ids.schema.json", import.meta.url), "utf8"),
    ) as unknown;
    expect(published).toEqual(JSON.parse(JSON.stringify(REGISTRY_SCHEMA)));
  });
});
