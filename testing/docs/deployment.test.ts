import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../packages/node/src/config/index.js";
import { codeBlocks } from "./markdown-blocks.js";

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const DOC = join(REPO, "docs/deployment.md");

/** The files docs/deployment.md shows, in the order it shows them. */
const SHOWN = ["ops/config/single-node.toml", "ops/config/cluster-node.toml", "ops/systemd/omnigate.service"];

/** A file's text without its first line, which says where the doc explains it. */
const body = (file: string) => readFileSync(join(REPO, file), "utf8").split("\n").slice(1).join("\n");

describe("docs/deployment.md and the files it shows", () => {
  const blocks = codeBlocks(DOC).filter((b) => b.lang === "toml" || b.lang === "ini");

  it("shows each ops file as it is", () => {
    expect(blocks).toHaveLength(SHOWN.length);
    for (const [i, file] of SHOWN.entries()) {
      const shown = (blocks[i]?.code ?? "").split("\n").slice(1).join("\n");
      expect(`${shown}\n`, file).toBe(body(file));
    }
  });

  it("gives config examples the node accepts", () => {
    for (const file of SHOWN.filter((f) => f.endsWith(".toml"))) {
      const config = loadConfig({ env: {}, file: join(REPO, file) });
      expect(config.listen).toBe("0.0.0.0:9443");
    }
    const cluster = loadConfig({ env: {}, file: join(REPO, "ops/config/cluster-node.toml") });
    expect(cluster.mailboxEngine).toBe("jetstream");
    expect(cluster.storageEngine).toBe("s3");
    expect(cluster.clusterNodes.split(",")).toHaveLength(3);
  });
});
