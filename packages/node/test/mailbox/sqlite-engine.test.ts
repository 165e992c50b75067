import { join } from "node:path";
import { tempDir } from "../../../../testing/support/temp-dir.js";
import { SqlEngine } from "../../src/mailbox/sqlite-engine.js";
import { mailboxEngineSuite } from "./engine-suite.js";

mailboxEngineSuite(
  "sqlite",
  async (rules, clock) => {
    const dir = tempDir("omnigate-mailbox-");
    const path = join(dir.path, "mailbox.sqlite");
    const subject = {
      engine: new SqlEngine({ ...rules, path, clock }),
      async reopen() {
        await subject.engine.close();
        subject.engine = new SqlEngine({ ...rules, path, clock });
        return subject.engine;
      },
      async cleanup() {
        await subject.engine.close();
        dir.remove();
      },
    };
    return subject;
  },
  true,
);
