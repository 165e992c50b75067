import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { tempDir } from "../../../testing/support/temp-dir.js";
import { privacyPage } from "../src/admin/privacy-page.js";
import { ConfigError, type LoadOptions, loadConfig } from "../src/config/index.js";
import { sampleDiscreteLaplace } from "../src/privacy/discrete-laplace.js";
import { formatEpsilonDecimal, parseEpsilon, remainingEpsilon } from "../src/privacy/epsilon.js";
import type { HistoryEntry, ReleaseEntry } from "../src/privacy/release-log.js";
import { seededUniform } from "../src/privacy/uniform-source.js";
import { periodEndAfter, UsageAggregator } from "../src/privacy/usage-aggregator.js";
import { type ReleaseCell, UsageReleases, type UsageReleasesOptions } from "../src/privacy/usage-releases.js";

const dirs: Array<{ remove: () => void }> = [];
afterEach(() => {
  for (const d of dirs.splice(0)) d.remove();
});
function freshDir(): string {
  const dir = tempDir("privacy-dashboard-");
  dirs.push(dir);
  return dir.path;
}

const ECHO = 0x0101;
const MAILBOX = 0x0201;
const STORAGE = 0x0301;
const CELLS: ReleaseCell[] = [
  { appProtoId: ECHO, name: "echo" },
  { appProtoId: MAILBOX, name: "mailbox" },
  { appProtoId: STORAGE, name: "storage" },
];

function countMany(
  counter: { count(tenant: bigint, app: number): void },
  tenant: bigint,
  app: number,
  n: number,
) {
  for (let i = 0; i < n; i++) counter.count(tenant, app);
}

function releases(dir: string, options: Partial<UsageReleasesOptions> = {}): UsageReleases {
  return new UsageReleases({
    dir,
    epsilon: parseEpsilon("0.5"),
    budget: parseEpsilon("10"),
    contributionCap: 100,
    periodSeconds: 3600,
    nowSeconds: 7200 + 1000,
    ...options,
  });
}

function released(entry: HistoryEntry): ReleaseEntry {
  if (entry.kind !== "release") throw new Error(`expected a release, got ${JSON.stringify(entry)}`);
  return entry;
}

describe("usage aggregation with a contribution cap", () => {
  it("counts a tenant over the cap exactly cap times, across all its apps, first come first counted", () => {
    const agg = new UsageAggregator(0, 3600, 100);
    countMany(agg, 7n, ECHO, 60);
    countMany(agg, 7n, MAILBOX, 60); // only 40 of these fit under the cap
    countMany(agg, 7n, ECHO, 10); // none of these
    const closed = agg.close(3600, 7200);
    expect(closed).toMatchObject({ start: 0, end: 3600 });
    expect(closed.counts).toEqual(
      new Map([
        [ECHO, 60],
        [MAILBOX, 40],
      ]),
    );
  });

  it("caps each tenant on its own and sums the tenants", () => {
    const agg = new UsageAggregator(0, 60, 5);
    countMany(agg, 1n, ECHO, 3);
    countMany(agg, 2n, ECHO, 9);
    countMany(agg, 2n ** 127n, STORAGE, 6);
    countMany(agg, 3n, STORAGE, 1);
    expect(agg.close(60, 120).counts).toEqual(
      new Map([
        [ECHO, 3 + 5],
        [STORAGE, 5 + 1],
      ]),
    );
  });

  it("forgets every tenant at the period's close: a new period gives a full cap again", () => {
    const agg = new UsageAggregator(0, 60, 2);
    countMany(agg, 1n, ECHO, 5);
    expect(agg.close(60, 120).counts.get(ECHO)).toBe(2);
    expect(agg.period).toEqual({ start: 60, end: 120 });
    countMany(agg, 1n, ECHO, 5);
    expect(agg.close(120, 180).counts.get(ECHO)).toBe(2);
    expect(() => new UsageAggregator(0, 60, 0)).toThrow(RangeError);
  });

  it("aligns periods to multiples of their length", () => {
    expect(periodEndAfter(0, 3600)).toBe(3600);
    expect(periodEndAfter(3599, 3600)).toBe(3600);
    expect(periodEndAfter(3600, 3600)).toBe(7200);
    expect(periodEndAfter(1_700_000_001, 2)).toBe(1_700_000_002);
    // A node started mid-hour releases its first, shorter period at the hour.
    const r = releases(freshDir(), { nowSeconds: 7200 + 1000 });
    expect(r.period).toEqual({ start: 8200, end: 10_800 });
    r.closePeriod(CELLS, 10_800);
    expect(r.period).toEqual({ start: 10_800, end: 14_400 });
    // A timer that fired late (here by two hours) closes one longer period up to an aligned end.
    r.closePeriod(CELLS, 14_400 + 7200 + 5);
    expect(r.period).toEqual({ start: 14_400, end: 25_200 });
  });
});

describe("releases at period close", () => {
  it("release every app with its bounded count plus discrete Laplace noise of scale Δ/ε, spend ε and persist", () => {
    const dir = freshDir();
    const r = releases(dir, { random: seededUniform("dashboard release"), contributionCap: 10 });
    countMany(r, 1n, ECHO, 25); // capped at 10
    countMany(r, 2n, ECHO, 4);
    countMany(r, 2n, MAILBOX, 3);
    const entry = released(r.closePeriod(CELLS, 10_800));

    // The same seed replays the same noise: scale Δ/ε = 10/0.5 = 20, one draw per cell in cell order.
    const replay = seededUniform("dashboard release");
    const noise = CELLS.map(() => sampleDiscreteLaplace(replay, 20, 1));
    expect(entry.counts).toEqual([
      { app: ECHO, name: "echo", count: 14 + (noise[0] as number) },
      { app: MAILBOX, name: "mailbox", count: 3 + (noise[1] as number) },
      { app: STORAGE, name: "storage", count: 0 + (noise[2] as number) },
    ]);
    expect(entry).toMatchObject({
      period_start: 8200,
      period_end: 10_800,
      epsilon: "0.5",
      sensitivity: 10,
      mechanism: expect.stringContaining("discrete Laplace"),
    });

    const lines = readFileSync(join(dir, "releases.jsonl"), "utf8").trim().split("\n");
    expect(lines.map((l) => JSON.parse(l))).toEqual([entry]);
    expect(readFileSync(join(dir, "budget.jsonl"), "utf8").trim().split("\n")).toHaveLength(1);
    expect(r.snapshot()).toMatchObject({
      epsilon_per_release: "0.5",
      budget: { total: "10", spent: "0.5", remaining: "9.5", exhausted: false },
      contribution_cap: 10,
      sensitivity: 10,
      noise_scale: "20",
      releases: [entry],
    });
  });

  it("refuses the release past the budget and shows it, without throwing (budget 1, ε 0.5)", () => {
    const dir = freshDir();
    const r = releases(dir, { budget: parseEpsilon("1") });
    expect(r.closePeriod(CELLS, 10_800).kind).toBe("release");
    expect(r.exhausted).toBe(false);
    expect(r.closePeriod(CELLS, 14_400).kind).toBe("release");
    expect(r.exhausted).toBe(true);
    countMany(r, 1n, ECHO, 3);
    const refusal = r.closePeriod(CELLS, 18_000);
    expect(refusal).toMatchObject({
      kind: "refusal",
      period_start: 14_400,
      period_end: 18_000,
      epsilon: "0.5",
      reason: "budget exhausted, no further releases",
    });
    expect(refusal).not.toHaveProperty("counts");
    // Further refusals are returned but not written again: the history grows with the budget only.
    expect(r.closePeriod(CELLS, 21_600).kind).toBe("refusal");
    const kinds = readFileSync(join(dir, "releases.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => (JSON.parse(l) as HistoryEntry).kind);
    expect(kinds).toEqual(["release", "release", "refusal"]);
    expect(r.snapshot()).toMatchObject({
      budget: { total: "1", spent: "1", remaining: "0", exhausted: true },
      status: "budget exhausted, no further releases",
    });
  });

  it("reads its history and the spent budget back after a restart, and never reopens a released period", () => {
    const dir = freshDir();
    const first = releases(dir, { budget: parseEpsilon("1.5") });
    countMany(first, 1n, ECHO, 2);
    const one = first.closePeriod(CELLS, 10_800);
    const two = first.closePeriod(CELLS, 14_400);
    // Restarted within the last released period's final second (clocks are in whole seconds).
    const second = releases(dir, { budget: parseEpsilon("1.5"), nowSeconds: 14_399 });
    expect(second.period).toEqual({ start: 14_400, end: 18_000 });
    expect(second.snapshot()).toMatchObject({
      budget: { spent: "1", remaining: "0.5", exhausted: false },
      releases: [one, two],
    });
    expect(second.closePeriod(CELLS, 18_000).kind).toBe("release");
    expect(second.closePeriod(CELLS, 21_600).kind).toBe("refusal");
    const third = releases(dir, { budget: parseEpsilon("1.5"), nowSeconds: 30_000 });
    expect(third.snapshot().releases.map((e) => e.kind)).toEqual([
      "release",
      "release",
      "release",
      "refusal",
    ]);
    expect(third.exhausted).toBe(true);
  });

  it("leaves a torn history line out of the page (the budget is kept apart)", () => {
    const dir = freshDir();
    const r = releases(dir);
    const entry = r.closePeriod(CELLS, 10_800);
    writeFileSync(join(dir, "releases.jsonl"), `${JSON.stringify(entry)}\n{"kind":"release","period_st`, {
      flag: "w",
    });
    const reopened = releases(dir, { nowSeconds: 20_000 });
    expect(reopened.snapshot().releases).toEqual([entry]);
    expect(reopened.snapshot().budget.spent).toBe("0.5");
  });
});

describe("exact ε arithmetic for the page", () => {
  it("shows sums of decimals as decimals and what is left of a budget", () => {
    expect(formatEpsilonDecimal(parseEpsilon("9.50"))).toBe("9.5");
    expect(formatEpsilonDecimal(parseEpsilon("0.000000001"))).toBe("0.000000001");
    expect(formatEpsilonDecimal(parseEpsilon("12"))).toBe("12");
    expect(formatEpsilonDecimal({ num: 1000n, den: 3n })).toBe("1000/3");
    expect(formatEpsilonDecimal(remainingEpsilon(parseEpsilon("10"), parseEpsilon("0.3")))).toBe("9.7");
    expect(formatEpsilonDecimal(remainingEpsilon(parseEpsilon("1"), parseEpsilon("2")))).toBe("0");
  });
});

describe("the page", () => {
  it("escapes app names, draws one chart per app, and shows negative noisy counts as they are", () => {
    const r = releases(freshDir(), { random: seededUniform("page") });
    const cells = [{ appProtoId: 0x1234, name: '<img src=x onerror="alert(1)">' }];
    r.closePeriod(cells, 10_800);
    r.closePeriod(cells, 14_400);
    const snapshot = r.snapshot();
    const html = privacyPage({
      ...snapshot,
      releases: [
        ...snapshot.releases,
        {
          ...released(snapshot.releases[1] as HistoryEntry),
          counts: [{ app: 0x1234, name: cells[0]?.name ?? "", count: -17 }],
        },
      ],
    });
    expect(html).not.toContain("<img");
    expect(html).toContain("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;");
    expect(html).not.toMatch(/<script|<link|<iframe|https?:\/\/(?!www\.w3\.org)/);
    expect(html.match(/<svg /g)).toHaveLength(1);
    expect(html.match(/<rect /g)).toHaveLength(3);
    expect(html).toContain('<td class="num" data-app="4660">-17</td>');
  });
});

describe("privacy settings", () => {
  it("default to off, ε 0.5, budget 10, cap 100 and hourly periods", () => {
    expect(loadConfig({ env: {} })).toMatchObject({
      privacyDashboard: "off",
      privacyEpsilon: "0.5",
      privacyBudget: "10",
      privacyContributionCap: 100,
      privacyPeriodSeconds: 3600,
      privacyDir: "",
    });
  });

  it("take ε and the budget as decimal text or a TOML number, exactly", () => {
    const dir = freshDir();
    const file = join(dir, "omnigate.toml");
    writeFileSync(file, '[privacy]\ndashboard = "on"\nepsilon = 0.25\nbudget = 3\nperiod_seconds = 2\n');
    expect(loadConfig({ env: {}, file })).toMatchObject({
      privacyDashboard: "on",
      privacyEpsilon: "0.25",
      privacyBudget: "3",
      privacyPeriodSeconds: 2,
    });
    expect(loadConfig({ env: { OMNIGATE_PRIVACY_EPSILON: "0.1" } }).privacyEpsilon).toBe("0.1");
  });

  it("refuse bad values with an error naming the key and what is expected", () => {
    const bad = (flags: LoadOptions["flags"]) => () => loadConfig({ env: {}, flags });
    for (const epsilon of ["0", "-1", "1e-3", "lots", "0.1234567891"]) {
      expect(bad({ privacyEpsilon: epsilon })).toThrow(
        new RegExp(
          `invalid privacy\\.epsilon "${epsilon.replace(".", "\\.")}" \\(from --privacy-epsilon\\): expected a positive decimal`,
        ),
      );
    }
    expect(bad({ privacyBudget: "0" })).toThrow(/invalid privacy\.budget "0".*positive decimal/);
    expect(bad({ privacyBudget: "0.25", privacyEpsilon: "0.5" })).toThrow(
      /privacy\.budget \(0\.25\) is smaller than privacy\.epsilon \(0\.5\)/,
    );
    expect(bad({ privacyContributionCap: "0" })).toThrow(/privacy\.contribution_cap "0".*from 1 to 1000000/);
    expect(bad({ privacyPeriodSeconds: "0" })).toThrow(/privacy\.period_seconds/);
    expect(bad({ privacyDashboard: "yes" })).toThrow(/privacy\.dashboard "yes".*one of off, on/);
    expect(bad({ privacyEpsilon: "0.000000007", privacyContributionCap: 1_000_000 })).toThrow(
      /noise scale the exact sampler cannot draw/,
    );
    expect(bad({ privacyEpsilon: "0" })).toThrow(ConfigError);
  });
});
