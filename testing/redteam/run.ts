/**
 * `npm run redteam`: attacks a fresh node process with every red-team case, prints the table
 * case → expected → observed and the health checks, and exits non-zero if anything differs.
 */
import { RSS_GROWTH_BOUND, runSuite, startRedteamNode, table } from "./suite.js";

const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;

const node = await startRedteamNode();
let failed = false;
try {
  const { results, health } = await runSuite(node, (r) =>
    process.stderr.write(`${r.pass ? "ok  " : "FAIL"} ${r.name}\n`),
  );
  process.stdout.write(`${table(results)}\n\n`);
  const rssOk = health.rssEnd - health.rssStart <= RSS_GROWTH_BOUND;
  const fdsOk = health.fdsEnd <= health.fdsStart;
  process.stdout.write(
    `${[
      `HELLO answers: ${health.hello}`,
      `echo answers: ${health.echo}`,
      `RSS: ${mib(health.rssStart)} → ${mib(health.rssEnd)} (bound: +${mib(RSS_GROWTH_BOUND)}) ${rssOk ? "ok" : "FAIL"}`,
      `open fds: ${health.fdsStart} → ${health.fdsEnd} ${fdsOk ? "ok" : "FAIL"}`,
    ].join("\n")}\n`,
  );
  failed = results.some((r) => !r.pass) || !health.hello || !health.echo || !rssOk || !fdsOk;
} finally {
  await node.stop();
}
process.exit(failed ? 1 : 0);
