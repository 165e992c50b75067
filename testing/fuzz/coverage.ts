import { Session } from "node:inspector";

interface BlockRange {
  startOffset: number;
  endOffset: number;
  count: number;
}
interface FunctionCoverage {
  functionName: string;
  ranges: BlockRange[];
}
interface ScriptCoverage {
  scriptId: string;
  url: string;
  functions: FunctionCoverage[];
}

/**
 * V8 precise block coverage of this process, through node:inspector (Profiler.
 * startPreciseCoverage with callCount and detailed): each take() returns the blocks of the
 * watched scripts that ran since the previous take() (V8 resets the counts on every take).
 * The same-thread inspector session answers synchronously, so no await is needed per input.
 */
export class BlockCoverage {
  private readonly session = new Session();
  /** Per script URL: every block range seen so far. */
  private readonly blocks = new Map<string, Map<string, [number, number]>>();

  constructor(private readonly urlParts: string[]) {
    this.session.connect();
    this.post("Profiler.enable");
    this.post("Profiler.startPreciseCoverage", { callCount: true, detailed: true });
  }

  /**
   * Keys ("url:start-end") of the watched blocks executed since the last call.
   *
   * V8 merges a nested range into its parent when their counts are equal, so which ranges are
   * reported depends on the counts, not only on what ran. Blocks are therefore every range
   * ever reported (the known universe), and a block ran iff the innermost range reported now
   * that contains it has a count above zero.
   */
  take(): Set<string> {
    const { result } = this.post("Profiler.takePreciseCoverage") as { result: ScriptCoverage[] };
    const hit = new Set<string>();
    for (const script of result) {
      if (!this.urlParts.some((part) => script.url.includes(part))) continue;
      let known = this.blocks.get(script.url);
      if (!known) {
        known = new Map();
        this.blocks.set(script.url, known);
      }
      const ranges: BlockRange[] = [];
      for (const fn of script.functions) {
        for (const range of fn.ranges) {
          ranges.push(range);
          const key = `${range.startOffset}-${range.endOffset}`;
          if (!known.has(key)) known.set(key, [range.startOffset, range.endOffset]);
        }
      }
      for (const [key, [start, end]] of known) {
        if (innermostCount(ranges, start, end) > 0) hit.add(`${script.url}:${key}`);
      }
    }
    return hit;
  }

  close(): void {
    this.post("Profiler.stopPreciseCoverage");
    this.post("Profiler.disable");
    this.session.disconnect();
  }

  private post(method: string, params?: object): unknown {
    let out: unknown;
    let failure: Error | null = null;
    let answered = false;
    this.session.post(method, params ?? {}, (err, res) => {
      answered = true;
      failure = err;
      out = res;
    });
    if (!answered) throw new Error(`inspector did not answer ${method} synchronously`);
    if (failure) throw failure;
    return out;
  }
}

/** Count of the smallest reported range that contains [start, end); 0 when none does. */
function innermostCount(ranges: BlockRange[], start: number, end: number): number {
  let best: BlockRange | undefined;
  for (const r of ranges) {
    if (r.startOffset > start || r.endOffset < end) continue;
    if (!best || r.endOffset - r.startOffset <= best.endOffset - best.startOffset) best = r;
  }
  return best?.count ?? 0;
}
