/**
 * Turns a closed period's usage into signed records: plain records are signed inline (about
 * 50 µs each); zero-knowledge ones are proven in a worker thread, one at a time, so proving
 * never runs on the event loop.
 */
import { extname } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import {
  createSettlement,
  type NodeKey,
  nodeKeyToPem,
  type SettlementInput,
  type SettlementRecord,
} from "@omnigate/ledger";

export interface SettlementSigner {
  sign(input: SettlementInput): Promise<SettlementRecord>;
  close(): Promise<void>;
}

export function inlineSigner(key: NodeKey): SettlementSigner {
  return {
    sign: async (input) => createSettlement(input, key),
    close: async () => {},
  };
}

/** A signer whose records are built in a worker thread (started on first use, again after a crash). */
export function workerSigner(key: NodeKey): SettlementSigner {
  let current: ProverWorker | undefined;
  let nextId = 0;
  const start = (): ProverWorker => {
    const worker = startProverWorker({ keyPem: nodeKeyToPem(key) });
    // Each worker answers only its own requests: a crashed one fails what it held, never its successor's.
    const entry: ProverWorker = { worker, waiting: new Map() };
    const failAll = (error: Error) => {
      for (const w of entry.waiting.values()) w.reject(error);
      entry.waiting.clear();
      if (current === entry) current = undefined;
    };
    worker.on("message", (m: { id: number; record?: SettlementRecord; error?: string }) => {
      const pending = entry.waiting.get(m.id);
      entry.waiting.delete(m.id);
      if (m.record) pending?.resolve(m.record);
      else pending?.reject(new Error(m.error ?? "the prover worker failed"));
    });
    worker.on("error", (error) => {
      failAll(error);
      void worker.terminate();
    });
    worker.on("exit", (code) => failAll(new Error(`the prover worker exited with code ${code}`)));
    worker.unref();
    return entry;
  };
  return {
    sign(input) {
      current ??= start();
      const entry = current;
      const id = nextId++;
      return new Promise((resolve, reject) => {
        entry.waiting.set(id, { resolve, reject });
        entry.worker.postMessage({ id, input });
      });
    },
    async close() {
      const entry = current;
      current = undefined;
      if (entry) await entry.worker.terminate();
    },
  };
}

interface ProverWorker {
  worker: Worker;
  waiting: Map<number, { resolve(r: SettlementRecord): void; reject(e: Error): void }>;
}

/**
 * The worker is this module's sibling with the same extension: .js from dist; .ts when the
 * node runs from source under tsx, whose loader a worker thread does not inherit, so the
 * worker registers it before importing the .ts file.
 */
function startProverWorker(workerData: { keyPem: string }): Worker {
  const extension = extname(fileURLToPath(import.meta.url));
  const url = new URL(`./prover-worker${extension}`, import.meta.url);
  if (extension !== ".ts") return new Worker(url, { workerData });
  const bootstrap = `import("tsx/esm/api").then((tsx) => { tsx.register(); return import(${JSON.stringify(url.href)}); });`;
  return new Worker(bootstrap, { eval: true, workerData });
}
