import { bucketIndex, type DhtId, distanceCompare, ID_BITS, idEquals } from "./ids.js";
import { type ContactRtt, updateContactRtt } from "./rtt.js";
import type { Contact } from "./types.js";

/** Routing table limits. */
export interface RoutingTableOptions {
  /** Contacts per bucket (Kademlia's k). Default 20. */
  k?: number;
  /** Consecutive failures after which a contact is evicted. Default 2. */
  maxFailures?: number;
  /** Replacement contacts remembered per full bucket. Default 5. */
  replacements?: number;
}

/** What `RoutingTable.update` did with a contact. */
export type UpdateResult = "self" | "updated" | "added" | "replaced" | "cached";

interface Entry {
  contact: Contact;
  /** Consecutive failed calls; reset by any answer or inbound call. */
  failures: number;
  /** Measured round trips to the contact, for its adaptive timeout. */
  rtt?: ContactRtt;
}

interface Bucket {
  /** Least recently seen first. */
  entries: Entry[];
  /** Most recently seen last; promoted when an entry is evicted. */
  replacements: Contact[];
}

/**
 * Kademlia's 256 k-buckets. Bucket `i` holds contacts whose id shares exactly `i` leading bits
 * with ours; entries are kept in LRU order. A full bucket keeps its old contacts (long-lived
 * peers are the likeliest to stay, and newcomers cannot flush a table) unless one of them has
 * failed; newcomers that do not fit wait in a small replacement cache and take the place of a
 * contact evicted after `maxFailures` consecutive failures. Buckets are allocated lazily.
 */
export class RoutingTable {
  /** Contacts per bucket. */
  readonly k: number;
  private readonly maxFailures: number;
  private readonly maxReplacements: number;
  private readonly buckets: (Bucket | undefined)[] = new Array(ID_BITS);
  private count = 0;

  constructor(
    /** Our own id: never stored, and what bucket indexes are measured from. */
    readonly self: DhtId,
    options: RoutingTableOptions = {},
  ) {
    this.k = options.k ?? 20;
    this.maxFailures = options.maxFailures ?? 2;
    this.maxReplacements = options.replacements ?? 5;
  }

  /** Number of contacts in the table (replacements not counted). */
  get size(): number {
    return this.count;
  }

  /**
   * Records that `contact` is alive (it answered, or called us): moves it to the tail of its
   * bucket and clears its failures, or adds it if there is room or a failed entry to replace,
   * or else remembers it as a replacement.
   */
  update(contact: Contact): UpdateResult {
    const index = bucketIndex(this.self, contact.id);
    if (index >= ID_BITS) return "self";
    let bucket = this.buckets[index];
    if (!bucket) {
      bucket = { entries: [], replacements: [] };
      this.buckets[index] = bucket;
    }
    const at = findEntry(bucket.entries, contact.id);
    if (at >= 0) {
      const [entry] = bucket.entries.splice(at, 1);
      if (entry) {
        entry.contact = contact;
        entry.failures = 0;
        bucket.entries.push(entry);
      }
      return "updated";
    }
    if (bucket.entries.length < this.k) {
      bucket.entries.push({ contact, failures: 0 });
      this.count++;
      removeContact(bucket.replacements, contact.id);
      return "added";
    }
    // Full: replace the most-failed entry (oldest first among equals) if any has failed.
    let worst = -1;
    for (let i = 0; i < bucket.entries.length; i++) {
      const failures = bucket.entries[i]?.failures ?? 0;
      if (failures > 0 && (worst < 0 || failures > (bucket.entries[worst]?.failures ?? 0))) worst = i;
    }
    if (worst >= 0) {
      bucket.entries.splice(worst, 1);
      bucket.entries.push({ contact, failures: 0 });
      return "replaced";
    }
    removeContact(bucket.replacements, contact.id);
    bucket.replacements.push(contact);
    if (bucket.replacements.length > this.maxReplacements) bucket.replacements.shift();
    return "cached";
  }

  /**
   * Records a failed call to `id` (timeout, loss, error). After `maxFailures` consecutive
   * failures the contact is evicted and the newest replacement takes its place. Returns whether
   * it was evicted.
   */
  recordFailure(id: DhtId): boolean {
    const index = bucketIndex(this.self, id);
    const bucket = this.buckets[index];
    if (!bucket) return false;
    const at = findEntry(bucket.entries, id);
    if (at < 0) {
      removeContact(bucket.replacements, id);
      return false;
    }
    const entry = bucket.entries[at];
    if (!entry) return false;
    entry.failures++;
    if (entry.failures < this.maxFailures) return false;
    bucket.entries.splice(at, 1);
    this.count--;
    const replacement = bucket.replacements.pop();
    if (replacement) {
      bucket.entries.push({ contact: replacement, failures: 0 });
      this.count++;
    }
    return true;
  }

  /** Removes `id` (and any replacement with that id). Returns whether it was in the table. */
  remove(id: DhtId): boolean {
    const bucket = this.buckets[bucketIndex(this.self, id)];
    if (!bucket) return false;
    removeContact(bucket.replacements, id);
    const at = findEntry(bucket.entries, id);
    if (at < 0) return false;
    bucket.entries.splice(at, 1);
    this.count--;
    return true;
  }

  /** The contact with this id, if it is in the table. */
  get(id: DhtId): Contact | undefined {
    const bucket = this.buckets[bucketIndex(this.self, id)];
    if (!bucket) return undefined;
    return bucket.entries[findEntry(bucket.entries, id)]?.contact;
  }

  /** Consecutive failures recorded for `id` (0 if unknown). */
  failures(id: DhtId): number {
    const bucket = this.buckets[bucketIndex(this.self, id)];
    if (!bucket) return 0;
    return bucket.entries[findEntry(bucket.entries, id)]?.failures ?? 0;
  }

  /** Folds an RTT sample into the estimate of `id`, if it is in the table. */
  recordRtt(id: DhtId, rttMs: number): void {
    const bucket = this.buckets[bucketIndex(this.self, id)];
    if (!bucket) return;
    const entry = bucket.entries[findEntry(bucket.entries, id)];
    if (entry) entry.rtt = updateContactRtt(entry.rtt, rttMs);
  }

  /** The RTT estimate of `id`, if it is in the table and was measured. */
  rttOf(id: DhtId): ContactRtt | undefined {
    const bucket = this.buckets[bucketIndex(this.self, id)];
    if (!bucket) return undefined;
    return bucket.entries[findEntry(bucket.entries, id)]?.rtt;
  }

  /** The contacts of bucket `index`, least recently seen first. */
  bucket(index: number): Contact[] {
    return (this.buckets[index]?.entries ?? []).map((e) => e.contact);
  }

  /** The replacement cache of bucket `index`, newest last. */
  replacementsOf(index: number): Contact[] {
    return [...(this.buckets[index]?.replacements ?? [])];
  }

  /** The highest index of a non-empty bucket, or -1 for an empty table. */
  deepestBucket(): number {
    for (let i = ID_BITS - 1; i >= 0; i--) if ((this.buckets[i]?.entries.length ?? 0) > 0) return i;
    return -1;
  }

  /** Every contact, bucket by bucket. */
  all(): Contact[] {
    const out: Contact[] = [];
    for (const bucket of this.buckets) if (bucket) for (const e of bucket.entries) out.push(e.contact);
    return out;
  }

  /**
   * The `n` contacts closest to `target`, closest first. Walks buckets in distance order instead
   * of sorting the whole table: with `i` = common prefix of self and target, bucket `i` holds
   * the closest contacts, then every bucket deeper than `i` (all at the same top bit), then
   * buckets `i-1`, `i-2`, ... 0, each farther than the last.
   */
  closest(target: DhtId, n: number = this.k): Contact[] {
    const out: Contact[] = [];
    if (n <= 0) return out;
    const cmp = (a: Contact, b: Contact) => distanceCompare(target, a.id, b.id);
    const i = bucketIndex(this.self, target);
    if (i < ID_BITS) {
      const near = this.buckets[i]?.entries.map((e) => e.contact) ?? [];
      near.sort(cmp);
      for (const c of near) if (out.length < n) out.push(c);
      if (out.length < n) {
        const deeper: Contact[] = [];
        for (let j = i + 1; j < ID_BITS; j++)
          for (const e of this.buckets[j]?.entries ?? []) deeper.push(e.contact);
        deeper.sort(cmp);
        for (const c of deeper) if (out.length < n) out.push(c);
      }
    }
    for (let j = Math.min(i, ID_BITS) - 1; j >= 0 && out.length < n; j--) {
      const entries = this.buckets[j]?.entries;
      if (!entries || entries.length === 0) continue;
      const farther = entries.map((e) => e.contact).sort(cmp);
      for (const c of farther) if (out.length < n) out.push(c);
    }
    return out;
  }
}

function findEntry(entries: Entry[], id: DhtId): number {
  for (let i = 0; i < entries.length; i++) if (idEquals((entries[i] as Entry).contact.id, id)) return i;
  return -1;
}

function removeContact(list: Contact[], id: DhtId): void {
  for (let i = 0; i < list.length; i++) {
    if (idEquals((list[i] as Contact).id, id)) {
      list.splice(i, 1);
      return;
    }
  }
}
