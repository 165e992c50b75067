import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { NODE_RUNTIME_FLAGS } from "../src/runtime-flags.js";

const root = new URL("../../../", import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), "utf8");

// Every way the docs and scripts start the node passes the node's Node.js flags.
describe("the node's Node.js flags", () => {
  const launchers: Array<[string, string]> = [
    ["the omnigate script's shebang", read("packages/node/src/bin/omnigate.ts").split("\n")[0] as string],
    ["npm start", JSON.parse(read("package.json")).scripts.start],
    ["the systemd unit", read("ops/systemd/omnigate.service").match(/^ExecStart=.*$/m)?.[0] ?? ""],
    ["docs/deployment.md", read("docs/deployment.md").match(/^ExecStart=.*$/m)?.[0] ?? ""],
  ];
  it.each(launchers)("are passed by %s", (_name, line) => {
    expect(NODE_RUNTIME_FLAGS.length).toBeGreaterThan(0);
    for (const flag of NODE_RUNTIME_FLAGS) expect(line.split(/\s+/)).toContain(flag);
  });
});
