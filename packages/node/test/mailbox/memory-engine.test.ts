import { SqlEngine } from "../../src/mailbox/sqlite-engine.js";
import { mailboxEngineSuite } from "./engine-suite.js";

mailboxEngineSuite(
  "memory",
  async (rules, clock) => {
    const engine = new SqlEngine({ ...rules, path: ":memory:", clock });
    return { engine, cleanup: () => engine.close() };
  },
  false,
);
