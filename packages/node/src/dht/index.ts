import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { type Contact, type DhtId, DhtNode, idFromHex, idToHex } from "@omnigate/dht";
import type { Registry } from "prom-client";
import type { NodeConfig } from "../config/index.js";
import type { Logger } from "../log.js";
import { digestOf, type ObjectAddress, PUBLIC_NAMESPACE, type StorageService } from "../storage/index.js";
import { DhtService } from "./dht-service.js";
import { FetchThrough } from "./fetch-through.js";
import { DhtMetrics } from "./metrics.js";
import { loadNetworkKey } from "./network-key.js";
import { NodeCapabilities } from "./node-capability.js";
import { OapDhtTransport } from "./oap-transport.js";
import { PeerClients } from "./peer-clients.js";
import { isNodeUrl } from "./wire.js";

/** Between bootstrap attempts while the routing table is empty: 1 s, doubling to 30 s. */
const BOOTSTRAP_RETRY_MS = [1_000, 30_000] as const;
/** The longest sleep of the maintenance loop (records expire, keys are republished). */
const MAINTAIN_EVERY_MS = 60_000;

/** The DHT part of a node: built before the listeners, joined once the node knows its URL. */
export interface NodeDht {
  readonly service: DhtService;
  readonly selfId: DhtId;
  /** Joins the network as `oapUrl` (or dht.advertise_url): bootstrap, maintenance, fetch-through. */
  join(oapUrl: string): void;
  /** Provider lookups and routing-table figures, for status and tests. */
  node(): DhtNode | undefined;
  close(): Promise<void>;
}

/** A node's DHT id: SHA-256 of its node id, so it is stable across restarts and spread evenly. */
export function dhtIdOf(nodeId: string): DhtId {
  return new Uint8Array(createHash("sha256").update(`omnigate dht node id\0${nodeId}`).digest());
}

/**
 * Builds the DHT of a node with `dht.mode = on`: the network key, this node's capability, the
 * node-to-node service (registered like the other services) and, at join, the Kademlia core
 * over OAP/1, the bootstrap and maintenance loops, and fetch-through for storage.
 */
export async function createNodeDht(
  config: NodeConfig,
  storage: StorageService,
  registry: Registry,
  log: Logger,
): Promise<NodeDht> {
  const keyFile = config.dhtNetworkKeyFile || join(config.dataDir, "dht", "network.key");
  const network = await loadNetworkKey(keyFile);
  if (network.created) {
    log.warn({ file: keyFile }, "made a new DHT network key; copy this file to every node of the network");
  }
  const selfId = dhtIdOf(config.nodeId);
  const caps = new NodeCapabilities(network, selfId);
  let core: DhtNode | undefined;
  const metrics = new DhtMetrics(registry, () => {
    const stats = core?.stats();
    const refused = stats ? Object.values(stats.refused).reduce((a, b) => a + b, 0) : 0;
    return {
      keys: stats?.store.keys ?? 0,
      records: stats?.store.records ?? 0,
      stored: stats?.store.stored ?? 0,
      refused,
      expired: stats?.store.expired ?? 0,
    };
  });
  const service = new DhtService(caps, storage, metrics);
  const stopping = new AbortController();
  let peers: PeerClients | undefined;
  const loops: Promise<void>[] = [];

  return {
    service,
    selfId,
    node: () => core,
    join(oapUrl) {
      const self: Contact = { id: selfId, address: config.dhtAdvertiseUrl || oapUrl };
      const caFiles = listOf(config.dhtCaFiles);
      const ownCa = join(config.dataDir, "tls", "ca.pem");
      if (caFiles.length === 0 && existsSync(ownCa)) caFiles.push(ownCa);
      peers = new PeerClients({
        caFiles,
        capability: () => caps.own(),
        connectTimeoutMs: config.dhtContactTimeoutMs,
      });
      const transport = new OapDhtTransport({
        peers,
        self,
        capability: () => caps.own(),
        maxProviderTtlMs: config.dhtProviderTtlMs,
        now: Date.now,
      });
      core = new DhtNode({
        self,
        transport,
        clock: { now: Date.now, sleep: (ms, signal) => sleep(ms, undefined, { signal, ref: false }) },
        random: Math.random,
        contactTimeoutMs: config.dhtContactTimeoutMs,
        providerTtlMs: config.dhtProviderTtlMs,
        maxProviderKeys: config.dhtMaxProviderKeys,
      });
      const node = core;
      service.attach(node);
      const announce = announcer(
        (addr) =>
          node
            .provide(idFromHex(digestOf(addr)), stopping.signal)
            .then((accepted) => log.debug({ addr, accepted }, "dht provider record published"))
            .catch((error: unknown) =>
              log.warn({ addr, err: String(error) }, "dht provide failed; republished later"),
            ),
        stopping.signal,
      );
      const fetchThrough = new FetchThrough({
        self,
        dht: node,
        fetch: (url, meta, signal) => transport.fetch(url, meta, signal),
        engine: storage.engine,
        announce,
        hedgeAfterMs: config.dhtFetchHedgeMs,
        idleTimeoutMs: config.dhtFetchIdleTimeoutMs,
        maxObjectBytes: config.storageMaxObjectBytes,
        metrics,
        log,
      });
      storage.connect({ announce, findElsewhere: fetchThrough.find });
      log.info({ dht_id: idToHex(selfId), url: self.address, network_key: network.keyId }, "dht joined as");
      loops.push(
        bootstrapLoop(node, transport, listOf(config.dhtBootstrap), stopping.signal, log),
        maintainLoop(node, stopping.signal, log),
        announceStored(storage, announce, stopping.signal, log),
      );
    },
    async close() {
      stopping.abort();
      await Promise.allSettled(loops);
      await peers?.close();
    },
  };
}

/** Joins through the seeds, again whenever the routing table is empty; republishes after each join. */
async function bootstrapLoop(
  node: DhtNode,
  transport: OapDhtTransport,
  seeds: string[],
  signal: AbortSignal,
  log: Logger,
): Promise<void> {
  for (const url of seeds) {
    if (!isNodeUrl(url)) log.error({ url }, "dht.bootstrap entry is not an oap+tls://host:port URL; ignored");
  }
  const urls = seeds.filter(isNodeUrl);
  let wait: number = BOOTSTRAP_RETRY_MS[0];
  while (!signal.aborted) {
    if (node.table.size === 0 && urls.length > 0) {
      const probed = await Promise.allSettled(
        urls.map((url) => transport.probe(url, AbortSignal.any([signal, AbortSignal.timeout(5_000)]))),
      );
      const contacts = probed.flatMap((p) => (p.status === "fulfilled" ? [p.value] : []));
      if (contacts.length > 0) {
        const size = await node.bootstrap(contacts, signal).catch(() => node.table.size);
        log.info({ contacts: size, seeds: contacts.length }, "dht bootstrapped");
        await node.republish(signal).catch(() => {});
        wait = BOOTSTRAP_RETRY_MS[0];
      } else {
        log.warn({ seeds: urls, retry_ms: wait }, "dht bootstrap: no seed answered; retrying");
        wait = Math.min(wait * 2, BOOTSTRAP_RETRY_MS[1]);
      }
    }
    await sleep(wait, undefined, { signal, ref: false }).catch(() => {});
  }
}

async function maintainLoop(node: DhtNode, signal: AbortSignal, log: Logger): Promise<void> {
  while (!signal.aborted) {
    const next = node.nextMaintenanceAt();
    const wait =
      next === undefined
        ? MAINTAIN_EVERY_MS
        : Math.max(1_000, Math.min(MAINTAIN_EVERY_MS, next - Date.now()));
    await sleep(wait, undefined, { signal, ref: false }).catch(() => {});
    if (signal.aborted) return;
    const report = await node.maintain(Date.now(), signal).catch((error: unknown) => {
      log.warn({ err: String(error) }, "dht maintenance failed");
      return undefined;
    });
    if (report && (report.expired > 0 || report.republished > 0)) log.debug(report, "dht maintenance");
  }
}

/** Announces the public objects already stored (a restart loses the in-memory list of keys). */
async function announceStored(
  storage: StorageService,
  announce: (addr: ObjectAddress) => void,
  signal: AbortSignal,
  log: Logger,
): Promise<void> {
  let count = 0;
  for await (const digest of storage.engine.list(PUBLIC_NAMESPACE)) {
    if (signal.aborted) return;
    announce(`b3:${digest}`);
    count++;
  }
  if (count > 0) log.info({ objects: count }, "dht: public objects announced");
}

/** Announces once per address at a time, a few at once: a restart with many objects must not flood peers. */
function announcer(
  provide: (addr: ObjectAddress) => Promise<void>,
  signal: AbortSignal,
): (addr: ObjectAddress) => void {
  const ANNOUNCING_AT_ONCE = 4;
  const queued = new Set<ObjectAddress>();
  let running = 0;
  const pump = () => {
    while (running < ANNOUNCING_AT_ONCE && queued.size > 0 && !signal.aborted) {
      const addr = queued.values().next().value as ObjectAddress;
      queued.delete(addr);
      running++;
      provide(addr).finally(() => {
        running--;
        pump();
      });
    }
  };
  return (addr) => {
    if (signal.aborted) return;
    queued.add(addr);
    pump();
  };
}

function listOf(text: string): string[] {
  return text
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part.length > 0);
}
