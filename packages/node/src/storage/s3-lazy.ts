import type { ObjectReader, PendingObject, StorageEngine } from "./engine.js";
import type { S3EngineOptions } from "./s3-engine.js";

/**
 * The s3 engine, loaded at open(): the AWS SDK is a large module graph that a node on the fs or
 * memory engine never needs, and the engine is made synchronously with the node's services.
 */
export class LazyS3Engine implements StorageEngine {
  readonly kind = "s3";
  private engine: StorageEngine | undefined;

  constructor(private readonly options: S3EngineOptions) {}

  async open(): Promise<void> {
    // The SDK warns on every start that its releases after January 2027 will need Node 22.
    // package.json pins a release that supports Node 20, so the warning is noise in the node's
    // log; its documented switch turns it off unless the operator set it.
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
    const { S3Engine } = await import("./s3-engine.js");
    const engine = new S3Engine(this.options);
    await engine.open();
    this.engine = engine;
  }

  async close(): Promise<void> {
    await this.engine?.close();
    this.engine = undefined;
  }

  size(namespace: string, digest: string): Promise<number | undefined> {
    return this.opened().size(namespace, digest);
  }

  create(namespace: string): Promise<PendingObject> {
    return this.opened().create(namespace);
  }

  openReader(namespace: string, digest: string, from?: number): Promise<ObjectReader | undefined> {
    return this.opened().openReader(namespace, digest, from);
  }

  readOutboard(namespace: string, digest: string): Promise<Uint8Array | undefined> {
    return this.opened().readOutboard(namespace, digest);
  }

  writeOutboard(namespace: string, digest: string, outboard: Uint8Array): Promise<void> {
    return this.opened().writeOutboard(namespace, digest, outboard);
  }

  list(namespace: string): AsyncIterable<string> {
    return this.opened().list(namespace);
  }

  quarantine(namespace: string, digest: string): Promise<void> {
    return this.opened().quarantine(namespace, digest);
  }

  totals(): { objects: number; bytes: number } {
    return this.engine?.totals() ?? { objects: 0, bytes: 0 };
  }

  private opened(): StorageEngine {
    if (!this.engine) throw new Error("the s3 storage engine is not open yet");
    return this.engine;
  }
}
