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

/** A signer whose records are built in a worker thread (started on first use). */
export function workerSigner(key: NodeKey): SettlementSigner {
  let worker: Worker | undefined;
  let nextId = 0;
  const waiting = new Map<number, { resolve(r: SettlementRecord): void; reject(e: Error): void }>();
  const failAll = (error: Error) => {
    for (const w of waiting.values()) w.reject(error);
    waiting.clear();
    worker = undefined;
  };
  const start = (): Worker => {
    const w = startProverWorker({ keyPem: nodeKeyToPem(key) });
    w.on("message", (m: { id: number; record?: SettlementRecord; error?: string }) => {
      const pending = waiting.get(m.id);
      waiting.delete(m.id);
      if (m.record) pending?.resolve(m.record);
      else pending?.reject(new Error(m.error ?? "the prover worker failed"));
    });
    w.on("error", (error) => failAll(error));
    w.on("exit", (code) => failAll(new Error(`the prover worker exited with code ${code}`)));
    w.unref();
    return w;
  };
  return {
    sign(input) {
      worker ??= start();
      const id = nextId++;
      const w = worker;
      return new Promise((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        w.postMessage({ id, input });
      });
    },
    async close() {
      const w = worker;
      worker = undefined;
      if (w) await w.terminate();
    },
  };
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
