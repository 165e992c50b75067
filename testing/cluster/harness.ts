import { type NatsCluster, startNatsCluster } from "../support/nats-cluster.js";
import { type OmnigateCluster, startOmnigateCluster } from "../support/omnigate-cluster.js";
import { type RedisProcess, startRedis } from "../support/redis-server.js";
import { type SwiftCluster, startSwiftCluster } from "../support/swift-cluster.js";

/**
 * Omnigate scaled out on real engines, all on 127.0.0.1 (docs/deployment.md): OpenStack Swift
 * (3 storage nodes, 3 replicas, S3 API) for storage, a 3-server NATS JetStream cluster (R3)
 * for the mailbox, Redis for global quotas and shared revocations, and the Omnigate nodes
 * with one root key ring and one CA.
 */
export interface ScaleOutCluster {
  omnigate: OmnigateCluster;
  swift: SwiftCluster;
  nats: NatsCluster;
  redis: RedisProcess;
  /** The flags each node runs with besides its own address (the shared engines). */
  engineFlags: string[];
  stop(): Promise<void>;
}

export interface ScaleOutOptions {
  /** Omnigate nodes (default 3). */
  nodes?: number;
  /** Where the Omnigate nodes keep their files (kept); default a temp dir removed at stop. */
  dir?: string;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
  /** Every line each Omnigate node prints. */
  onNodeLine?: (node: number, line: string) => void;
}

export async function startScaleOutCluster(options: ScaleOutOptions = {}): Promise<ScaleOutCluster> {
  const log = options.log ?? (() => {});
  const started: Array<{ stop(): Promise<void> }> = [];
  const stopAll = async () => {
    for (const part of started.reverse()) await part.stop().catch(() => {});
  };
  try {
    log("starting Redis, Swift (proxy + 3 storage nodes) and NATS (3 servers) ...");
    const since = Date.now();
    // All settled before going on: a part still starting when another failed must be stopped too.
    const [redis, swift, nats] = await allStarted(
      [
        startRedis(),
        startSwiftCluster({ log: (line) => log(`swift: ${line}`) }),
        startNatsCluster({ nodes: 3 }),
      ] as const,
      started,
    );
    log(`engines ready in ${((Date.now() - since) / 1000).toFixed(1)} s`);
    const engineFlags = [
      ...["--storage-engine", "s3", "--storage-s3-endpoint", swift.endpoint],
      ...["--storage-s3-region", swift.region],
      ...["--storage-s3-access-key-id", swift.accessKeyId],
      ...["--storage-s3-secret-access-key", swift.secretAccessKey],
      ...["--mailbox-engine", "jetstream", "--mailbox-nats-urls", nats.urls.join(",")],
      ...["--quotas-redis-url", redis.url, "--auth-redis-url", redis.url],
    ];
    log(`starting ${options.nodes ?? 3} Omnigate nodes ...`);
    const omnigate = await track(
      startOmnigateCluster({
        nodes: options.nodes ?? 3,
        flags: engineFlags,
        ...(options.dir ? { dir: options.dir } : {}),
        ...(options.onNodeLine ? { onLine: options.onNodeLine } : {}),
      }),
      started,
    );
    log(`cluster ready in ${((Date.now() - since) / 1000).toFixed(1)} s`);
    return { omnigate, swift, nats, redis, engineFlags, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** Remembers a part once it started, so a failure later stops what is already running. */
async function track<T extends { stop(): Promise<void> }>(
  starting: Promise<T>,
  started: Array<{ stop(): Promise<void> }>,
): Promise<T> {
  const part = await starting;
  started.push(part);
  return part;
}

/** Waits for every part; each one that started is tracked, and the first failure is thrown. */
async function allStarted<T extends readonly Promise<{ stop(): Promise<void> }>[]>(
  starting: T,
  started: Array<{ stop(): Promise<void> }>,
): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
  const results = await Promise.allSettled(starting);
  for (const result of results) if (result.status === "fulfilled") started.push(result.value);
  const failed = results.find((result) => result.status === "rejected");
  if (failed) throw failed.reason;
  return results.map((result) => (result as PromiseFulfilledResult<unknown>).value) as {
    -readonly [K in keyof T]: Awaited<T[K]>;
  };
}
