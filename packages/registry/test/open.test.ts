import { fileURLToPath } from "node:url";
import { AppProtoId } from "@omnigate/oap";
import { afterEach, describe, expect, it } from "vitest";
import { openRegistry, RegistryError } from "../src/index.js";
import { appEntry, RegistryFixture, signed } from "./support/fixture.js";

const COMMITTED = fileURLToPath(new URL("../../../registry/app_proto_ids.json", import.meta.url));

const fixtures: RegistryFixture[] = [];
afterEach(() => {
  for (const f of fixtures.splice(0)) f.remove();
});

describe("openRegistry", () => {
  it("indexes the committed registry by numeric id, with the node's built-in services at their ids", () => {
    const registry = openRegistry({ file: COMMITTED });
    expect(registry.get(AppProtoId.CONTROL)?.name).toBe("control");
    expect(registry.get(AppProtoId.ECHO)?.name).toBe("echo");
    expect(registry.get(AppProtoId.MAILBOX)?.name).toBe("mailbox");
    expect(registry.get(AppProtoId.STORAGE)?.name).toBe("storage");
    expect(registry.get(0x1001)?.name).toBe("vest");
    expect(registry.get(0x1002)).toBeUndefined();
    expect(registry.get(0xf001)).toBeUndefined();
  });

  it("throws a RegistryError listing every problem when anything is wrong", () => {
    const f = new RegistryFixture();
    fixtures.push(f);
    f.write([
      ...f.validEntries(),
      { ...signed(appEntry({ id: "0x1002", name: "two" }), f.acme), owner: "Mallory" },
      signed(appEntry({ id: "0xfffe", name: "private" }), f.acme),
    ]);
    let thrown: unknown;
    try {
      openRegistry({ file: f.file, keysDir: f.keysDir });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(RegistryError);
    const error = thrown as RegistryError;
    expect(error.problems.map((p) => p.kind)).toEqual(["bad_signature", "id_out_of_range"]);
    expect(error.message).toContain("has 2 problems");
    expect(error.message).toContain("entry 2 (0x1002 two): bad_signature");
    expect(error.message).toContain("entry 3 (0xfffe private): id_out_of_range");
  });
});
