import { type ObjectReader, type PendingObject, type StorageEngine, StoreFullError } from "./engine.js";

/**
 * Objects in memory only (amnesia mode): nothing touches the disk. Total bytes are bounded by
 * `maxBytes`, counting objects being written, so a flood of PUTs cannot exhaust the heap.
 */
export class MemoryEngine implements StorageEngine {
  readonly kind = "memory";
  private readonly objects = new Map<string, Uint8Array[]>();
  /** Outboards by object (about 0.1% of an object's bytes; not counted against maxBytes). */
  private readonly outboards = new Map<string, Uint8Array>();
  private stored = 0;
  /** Bytes held by objects still being written. */
  private pending = 0;

  constructor(private readonly maxBytes: number) {}

  async open(): Promise<void> {}

  async close(): Promise<void> {
    this.objects.clear();
    this.outboards.clear();
    this.stored = 0;
  }

  async size(namespace: string, digest: string): Promise<number | undefined> {
    const chunks = this.objects.get(key(namespace, digest));
    return chunks ? byteLength(chunks) : undefined;
  }

  async create(namespace: string): Promise<PendingObject> {
    const chunks: Uint8Array[] = [];
    let held = 0;
    let open = true;
    const release = () => {
      if (!open) return;
      open = false;
      this.pending -= held;
    };
    return {
      write: async (chunk) => {
        if (!open) throw new Error("the object was already committed or aborted");
        if (this.stored + this.pending + chunk.byteLength > this.maxBytes) {
          throw new StoreFullError(`the in-memory store is full (${this.maxBytes} bytes)`);
        }
        // A copy: the chunk may be a view into a larger network buffer.
        chunks.push(Uint8Array.from(chunk));
        held += chunk.byteLength;
        this.pending += chunk.byteLength;
      },
      commit: async (digest, outboard) => {
        release();
        const k = key(namespace, digest);
        if (this.objects.has(k)) return false;
        this.objects.set(k, chunks);
        if (outboard && outboard.byteLength > 0) this.outboards.set(k, Uint8Array.from(outboard));
        this.stored += held;
        return true;
      },
      abort: async () => release(),
    };
  }

  async openReader(namespace: string, digest: string): Promise<ObjectReader | undefined> {
    const chunks = this.objects.get(key(namespace, digest));
    if (!chunks) return undefined;
    return {
      read: async (into, position) => {
        let done = 0;
        let offset = 0;
        for (const chunk of chunks) {
          const chunkEnd = offset + chunk.byteLength;
          const from = position + done;
          if (from < chunkEnd) {
            // A copy, so whatever the caller does with its buffer leaves the object intact.
            const piece = chunk.subarray(
              from - offset,
              Math.min(chunk.byteLength, from - offset + into.byteLength - done),
            );
            into.set(piece, done);
            done += piece.byteLength;
            if (done === into.byteLength) break;
          }
          offset = chunkEnd;
        }
        return done;
      },
      close: async () => {},
    };
  }

  async *list(namespace: string): AsyncIterable<string> {
    const prefix = `${namespace}/`;
    for (const k of [...this.objects.keys()]) if (k.startsWith(prefix)) yield k.slice(prefix.length);
  }

  async readOutboard(namespace: string, digest: string): Promise<Uint8Array | undefined> {
    return this.outboards.get(key(namespace, digest));
  }

  async writeOutboard(namespace: string, digest: string, outboard: Uint8Array): Promise<void> {
    const k = key(namespace, digest);
    if (this.objects.has(k)) this.outboards.set(k, Uint8Array.from(outboard));
  }

  async quarantine(namespace: string, digest: string): Promise<void> {
    const k = key(namespace, digest);
    const chunks = this.objects.get(k);
    if (!chunks) return;
    this.objects.delete(k);
    this.outboards.delete(k);
    this.stored -= byteLength(chunks);
  }

  totals(): { objects: number; bytes: number } {
    return { objects: this.objects.size, bytes: this.stored };
  }

  /** @internal For tests: the stored chunks of an object, to damage them on purpose. */
  chunksOf(namespace: string, digest: string): Uint8Array[] | undefined {
    return this.objects.get(key(namespace, digest));
  }
}

function key(namespace: string, digest: string): string {
  return `${namespace}/${digest}`;
}

function byteLength(chunks: Uint8Array[]): number {
  let n = 0;
  for (const chunk of chunks) n += chunk.byteLength;
  return n;
}
