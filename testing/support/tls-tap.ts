/**
 * An on-path observer of TLS: a TCP relay on 127.0.0.1 between a client and a node that
 * forwards every byte unchanged and records, per connection, each TLS record's direction,
 * length on the wire (its 5-byte header included) and arrival time. That is what anyone on
 * the network path sees of an encrypted connection; nothing in the client or the node knows
 * it is there, so capture costs them nothing.
 */
import { createServer, type Server, type Socket, connect as tcpConnect } from "node:net";

/** TLS record header: content type (1), legacy version (2), length (2). */
const RECORD_HEADER_BYTES = 5;
/** What TLS 1.3 adds to a record's plaintext: the inner content type byte and a 16-byte AEAD tag. */
const TLS13_RECORD_OVERHEAD = 1 + 16;

/** One relayed connection and the records seen on it so far, in arrival order. */
export interface TappedConnection {
  readonly id: number;
  /** Times are `performance.now()` milliseconds, the clock scenarios mark windows with. */
  readonly packets: Array<{ at: number; dir: 1 | -1; bytes: number }>;
  /** Resolves when both sides have closed. */
  readonly closed: Promise<void>;
}

export interface TlsTap {
  /** Where clients connect instead of the node: `host:port`. */
  readonly address: { host: string; port: number };
  /** Called for each connection as it is accepted, before any byte is relayed. */
  onConnection(listener: (connection: TappedConnection) => void): void;
  close(): Promise<void>;
}

/** Splits one direction's byte stream into TLS records as an observer would. */
class RecordCounter {
  private header = Buffer.alloc(RECORD_HEADER_BYTES);
  private headerHave = 0;
  /** Body bytes still to come of the current record. */
  private bodyLeft = 0;

  constructor(private readonly record: (bytes: number) => void) {}

  feed(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.bodyLeft > 0) {
        const take = Math.min(this.bodyLeft, chunk.length - at);
        this.bodyLeft -= take;
        at += take;
        if (this.bodyLeft === 0) this.record(RECORD_HEADER_BYTES + this.header.readUInt16BE(3));
        continue;
      }
      const take = Math.min(RECORD_HEADER_BYTES - this.headerHave, chunk.length - at);
      chunk.copy(this.header, this.headerHave, at, at + take);
      this.headerHave += take;
      at += take;
      if (this.headerHave < RECORD_HEADER_BYTES) continue;
      this.headerHave = 0;
      this.bodyLeft = this.header.readUInt16BE(3);
      if (this.bodyLeft === 0) this.record(RECORD_HEADER_BYTES);
    }
  }
}

export interface TlsTapOptions {
  /**
   * Round-trip time the relay adds, half each way (default 0: loopback). The observer sits at
   * the client's end of the path: it sees what the client sends as it leaves, and what the
   * node sends as it arrives.
   */
  rttMs?: number;
}

/** Starts a relay to `target` on an ephemeral 127.0.0.1 port. */
export async function startTlsTap(
  target: { host: string; port: number },
  options: TlsTapOptions = {},
): Promise<TlsTap> {
  const oneWayMs = (options.rttMs ?? 0) / 2;
  const listeners: Array<(connection: TappedConnection) => void> = [];
  const sockets = new Set<Socket>();
  let nextId = 1;
  const server: Server = createServer({ noDelay: true }, (client) => {
    const packets: TappedConnection["packets"] = [];
    const upstream = tcpConnect({ host: target.host, port: target.port, noDelay: true });
    sockets.add(client);
    sockets.add(upstream);
    let closedCount = 0;
    let resolveClosed: () => void = () => {};
    const closed = new Promise<void>((resolve) => {
      resolveClosed = resolve;
    });
    const onClose = (socket: Socket) => () => {
      sockets.delete(socket);
      if (++closedCount === 2) resolveClosed();
    };
    client.once("close", onClose(client));
    upstream.once("close", onClose(upstream));
    const connection: TappedConnection = { id: nextId++, packets, closed };
    for (const listener of listeners) listener(connection);
    const up = new RecordCounter((bytes) => packets.push({ at: performance.now(), dir: 1, bytes }));
    const down = new RecordCounter((bytes) => packets.push({ at: performance.now(), dir: -1, bytes }));
    relay(client, upstream, oneWayMs, (chunk) => up.feed(chunk), undefined);
    relay(upstream, client, oneWayMs, undefined, (chunk) => down.feed(chunk));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  return {
    address: { host: "127.0.0.1", port },
    onConnection(listener) {
      listeners.push(listener);
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Forwards `from` to `to` after `delayMs`, with backpressure, showing each chunk to `onReceived`
 * as it arrives and to `onForwarded` as it is passed on. Timers of one duration fire in the
 * order they were set, so a constant delay keeps the byte order.
 */
function relay(
  from: Socket,
  to: Socket,
  delayMs: number,
  onReceived: ((chunk: Buffer) => void) | undefined,
  onForwarded: ((chunk: Buffer) => void) | undefined,
): void {
  const forward = (chunk: Buffer) => {
    if (to.destroyed) return;
    onForwarded?.(chunk);
    if (!to.write(chunk)) {
      from.pause();
      to.once("drain", () => from.resume());
    }
  };
  const later = (action: () => void) => (delayMs > 0 ? setTimeout(action, delayMs) : action());
  from.on("data", (chunk: Buffer) => {
    onReceived?.(chunk);
    later(() => forward(chunk));
  });
  from.once("end", () => later(() => to.end()));
  from.once("error", () => to.destroy());
  from.once("close", () => later(() => to.destroy()));
}

/** The plaintext length of a TLS 1.3 application-data record of `recordBytes` bytes on the wire. */
export function tls13Plaintext(recordBytes: number): number {
  return recordBytes - RECORD_HEADER_BYTES - TLS13_RECORD_OVERHEAD;
}
