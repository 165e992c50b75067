import { describe, expect, it } from "vitest";
import { MsgIds, seqOf } from "../../src/mailbox/sql/msg-id.js";

describe("SQL engine msg ids", () => {
  it("are ULIDs that carry their seq and sort in send order", () => {
    const ids = new MsgIds();
    const made = [1, 2, 31, 32, 1_000_000, Number.MAX_SAFE_INTEGER].map((seq, i) =>
      ids.make(1_700_000_000_000 + i, seq),
    );
    for (const id of made) expect(id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(made.map(seqOf)).toEqual([1, 2, 31, 32, 1_000_000, Number.MAX_SAFE_INTEGER]);
    expect([...made].sort()).toEqual(made);
    // A clock that steps back does not move the time part back.
    expect(ids.make(1, 7).slice(0, 10)).toBe((made.at(-1) as string).slice(0, 10));
  });

  it("name no seq for anything else", () => {
    for (const id of ["", "short", "01HF7YAWFCYV23GNMDC55A37Y!", "01HF7YAWFCYV23GNMD00000000"]) {
      expect(seqOf(id)).toBeUndefined();
    }
  });
});
