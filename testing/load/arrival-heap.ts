/**
 * The generator's schedule, the next arrival of every flow soonest first: a binary min-heap
 * of (time, flow) pairs in two parallel arrays, so a thousand flows share one timer.
 */
export class ArrivalHeap {
  private readonly at: number[] = [];
  private readonly flow: number[] = [];

  get size(): number {
    return this.at.length;
  }

  peekAt(): number {
    return this.at[0] as number;
  }

  push(at: number, flow: number): void {
    let i = this.at.length;
    this.at.push(at);
    this.flow.push(flow);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((this.at[parent] as number) <= at) break;
      this.at[i] = this.at[parent] as number;
      this.flow[i] = this.flow[parent] as number;
      i = parent;
    }
    this.at[i] = at;
    this.flow[i] = flow;
  }

  pop(): [number, number] {
    const top: [number, number] = [this.at[0] as number, this.flow[0] as number];
    const lastAt = this.at.pop() as number;
    const lastFlow = this.flow.pop() as number;
    const n = this.at.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && (this.at[r] as number) < (this.at[l] as number) ? r : l;
        if ((this.at[c] as number) >= lastAt) break;
        this.at[i] = this.at[c] as number;
        this.flow[i] = this.flow[c] as number;
        i = c;
      }
      this.at[i] = lastAt;
      this.flow[i] = lastFlow;
    }
    return top;
  }
}
