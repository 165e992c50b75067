import { Counter, Gauge, type Registry } from "prom-client";

export type Labels = Record<string, string | number>;

/** Where a scraped metric reads from: its label names, and each label set's value now. */
export interface Source {
  labelNames: string[];
  read(): Iterable<readonly [Labels, number]>;
}

/** A source with no labels: one value. */
export function single(read: () => number): Source {
  return { labelNames: [], read: () => [[{}, read()]] };
}

/**
 * Registers a counter or gauge that copies the node's own numbers at each scrape, so the hot
 * path adds to a plain number instead of paying prom-client's label hashing. The last scrape's
 * values are forgotten first; on a counter, values read under the same labels add up.
 */
export function registerScraped(
  registry: Registry,
  type: "counter" | "gauge",
  name: string,
  help: string,
  source: Source,
): void {
  const config = { name, help, labelNames: source.labelNames, registers: [registry] };
  if (type === "gauge") {
    new Gauge({
      ...config,
      collect() {
        this.reset();
        for (const [labels, value] of source.read()) this.set(labels, value);
      },
    });
  } else {
    new Counter({
      ...config,
      collect() {
        this.reset();
        for (const [labels, value] of source.read()) this.inc(labels, value);
      },
    });
  }
}
