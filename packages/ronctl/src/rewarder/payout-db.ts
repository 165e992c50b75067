/**
 * The rewarder's ledger in SQLite: `settled` holds one row per record id ever paid (its
 * primary key is the at-most-once guarantee), `payouts` the amounts, `processed` every record
 * file already handled and how. A payout, its settled marker and its file's processed row are
 * written in one transaction: a rewarder killed at any point has either paid a record (and
 * marked it) or done neither, so a restart pays what is missing and nothing twice
 * (specs/models/rewarder.pml checks this design; docs/ledger.md).
 */
import Database from "better-sqlite3";

export type Outcome = "paid" | "replayed" | "overlapping" | "rejected";

export interface Payout {
  recordId: string;
  nodeId: string;
  tenant: string;
  app: number;
  epochStart: number;
  epochSeconds: number;
  usageTotal: number;
  mode: "plain" | "zk";
  amount: number;
}

export class PayoutDb {
  readonly #db: Database.Database;
  readonly #isProcessed: Database.Statement<[string]>;
  readonly #pay: (payout: Payout, file: string, digest: string) => Outcome;
  readonly #reject: Database.Statement<[string, string, string, string]>;

  constructor(path: string) {
    this.#db = new Database(path);
    this.#db.pragma("journal_mode = WAL");
    // FULL: a transaction that returned has reached the disk, so a payout survives power loss too.
    this.#db.pragma("synchronous = FULL");
    // Another rewarder on the same database holds the write lock for one short transaction.
    this.#db.pragma("busy_timeout = 10000");
    this.#db.exec(`
      CREATE TABLE IF NOT EXISTS settled (
        record_id TEXT PRIMARY KEY, file TEXT NOT NULL, paid_at INTEGER NOT NULL
      );
      CREATE TABLE IF NOT EXISTS payouts (
        id INTEGER PRIMARY KEY AUTOINCREMENT, record_id TEXT NOT NULL, node_id TEXT NOT NULL,
        tenant TEXT NOT NULL, app INTEGER NOT NULL, epoch_start INTEGER NOT NULL,
        epoch_seconds INTEGER NOT NULL, usage_total INTEGER NOT NULL, mode TEXT NOT NULL,
        amount INTEGER NOT NULL
      );
      CREATE TABLE IF NOT EXISTS processed (
        digest TEXT PRIMARY KEY, file TEXT NOT NULL, outcome TEXT NOT NULL,
        reason TEXT, message TEXT
      );
    `);
    this.#isProcessed = this.#db.prepare("SELECT 1 FROM processed WHERE digest = ?");
    const settle = this.#db.prepare(
      "INSERT INTO settled (record_id, file, paid_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
    );
    const payout = this.#db.prepare(
      `INSERT INTO payouts (record_id, node_id, tenant, app, epoch_start, epoch_seconds, usage_total, mode, amount)
       VALUES (@recordId, @nodeId, @tenant, @app, @epochStart, @epochSeconds, @usageTotal, @mode, @amount)`,
    );
    const processed = this.#db.prepare(
      "INSERT OR IGNORE INTO processed (digest, file, outcome) VALUES (?, ?, ?)",
    );
    // A node may sign one record per tenant, app and period; two that overlap claim the same
    // usage twice (a record id differs with the epoch start, so the marker alone cannot see it).
    const overlapping = this.#db.prepare(
      `SELECT 1 FROM payouts WHERE node_id = ? AND tenant = ? AND app = ?
         AND epoch_start < ? AND epoch_start + epoch_seconds > ? LIMIT 1`,
    );
    this.#pay = this.#db.transaction((p: Payout, file: string, digest: string): Outcome => {
      // The marker first: if the record was paid before (another file, an earlier run), stop here.
      if (settle.run(p.recordId, file, Date.now()).changes === 0) {
        processed.run(digest, file, "replayed");
        return "replayed";
      }
      if (overlapping.get(p.nodeId, p.tenant, p.app, p.epochStart + p.epochSeconds, p.epochStart)) {
        // Throwing rolls the marker back: the file is recorded as refused outside this transaction.
        throw new OverlapError();
      }
      payout.run(p);
      processed.run(digest, file, "paid");
      return "paid";
    });
    this.#reject = this.#db.prepare(
      "INSERT OR IGNORE INTO processed (digest, file, outcome, reason, message) VALUES (?, ?, 'rejected', ?, ?)",
    );
  }

  /** Whether a file with these contents was handled already (paid, replayed or rejected). */
  isProcessed(digest: string): boolean {
    return this.#isProcessed.get(digest) !== undefined;
  }

  /**
   * Pays a verified record at most once: "paid"; "replayed" when its id was paid before;
   * "overlapping" (nothing written) when the same node, tenant and app were paid for a period
   * that overlaps it.
   */
  pay(payout: Payout, file: string, digest: string): Outcome {
    try {
      return this.#pay(payout, file, digest);
    } catch (error) {
      if (error instanceof OverlapError) return "overlapping";
      throw error;
    }
  }

  reject(digest: string, file: string, reason: string, message: string): void {
    this.#reject.run(digest, file, reason, message);
  }

  /** Totals for reports and tests. */
  summary(): { payouts: number; amount: number; settled: number; rejected: number; replayed: number } {
    const one = (sql: string) => (this.#db.prepare(sql).get() as { n: number | null }).n ?? 0;
    return {
      payouts: one("SELECT COUNT(*) AS n FROM payouts"),
      amount: one("SELECT SUM(amount) AS n FROM payouts"),
      settled: one("SELECT COUNT(*) AS n FROM settled"),
      rejected: one("SELECT COUNT(*) AS n FROM processed WHERE outcome = 'rejected'"),
      replayed: one("SELECT COUNT(*) AS n FROM processed WHERE outcome = 'replayed'"),
    };
  }

  close(): void {
    this.#db.close();
  }
}

class OverlapError extends Error {}
