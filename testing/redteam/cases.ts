import { createServer, type Socket, connect as tcpConnect } from "node:net";
import { type TLSSocket, connect as tlsConnect } from "node:tls";
import { AppProtoId, compressBody, encodeFrame, encodeStartPayload, Flags } from "@omnigate/oap";
import { declaredSizeBomb, rleBomb } from "../comp/zstd-frames.js";
import { RawOapConnection } from "../support/raw-oap.js";
import {
  closedWithin,
  ECHO,
  echoRequest,
  garbage,
  hostPort,
  liveness,
  openRaw,
  openTcp,
  openTls,
  outcome,
  rawFrame,
  sleep,
  type Target,
} from "./wire.js";
import { WSS_CASES } from "./wss-cases.js";

/** One attack: what the suite expects, and how to observe what the node did. */
export interface RedteamCase {
  name: string;
  group: string;
  expected: string;
  run(t: Target): Promise<string>;
}

/**
 * The node flags the suite runs against: short connection time limits so slow-loris cases
 * finish in seconds, a small max_inflight, and a quota on echo for the quota storm (see
 * redteam.toml). Each expectation below is written against these.
 */
export const REDTEAM_FLAGS = [
  "--max-inflight",
  "8",
  "--first-header-timeout-ms",
  "1000",
  "--frame-timeout-ms",
  "1500",
  "--handshake-timeout-ms",
  "1000",
  "--write-stall-timeout-ms",
  "1500",
  "--write-buffer-bytes",
  "65536",
  "--idle-timeout-ms",
  "5000",
];

const REQ = Flags.REQ;
const START = Flags.START;
const END = Flags.END;
const MAX_FRAME = 1_048_576;

/** A fresh connection (over the target's transport), the attack bytes, then the outcome for `corr`. */
function oneShot(bytes: () => Uint8Array, corr?: bigint): (t: Target) => Promise<string> {
  return async (t) => {
    const conn = await openRaw(t);
    try {
      conn.write(bytes());
      return await outcome(conn, corr);
    } finally {
      conn.close();
    }
  };
}

function headerCase(name: string, expected: string, bytes: () => Uint8Array): RedteamCase {
  return { name, group: "header", expected, run: oneShot(bytes) };
}

function compCase(name: string, expected: string, body: () => Uint8Array, extraFlags = 0): RedteamCase {
  return {
    name,
    group: "compression",
    expected,
    run: oneShot(() => echoRequest(7n, body(), { flags: Flags.COMP | extraFlags }), 7n),
  };
}

const headerCases: RedteamCase[] = [
  headerCase("bad version", "400 bad_version, closed", () => rawFrame({ ver: 2, flags: REQ | START | END })),
  headerCase("reserved flag bit", "400 bad_flags, closed", () =>
    rawFrame({ flags: REQ | START | END | 0x0100 }),
  ),
  headerCase("len < 38", "400 bad_frame, closed", () => rawFrame({ len: 37, flags: REQ | START | END })),
  headerCase("len far over max_frame", "413 frame_too_large, closed", () =>
    rawFrame({ len: 0xffff_ffff, flags: REQ | START | END }),
  ),
  headerCase("len = max_frame + 1", "413 frame_too_large, closed", () =>
    rawFrame({ len: MAX_FRAME + 1, flags: REQ | START | END }),
  ),
  headerCase("cap without START", "400 cap_on_non_start, closed", () =>
    rawFrame({ flags: REQ | END, capLen: 4 }, Buffer.from("capx")),
  ),
  headerCase("cap longer than the frame", "400 bad_frame, closed", () =>
    rawFrame({ len: 50, flags: REQ | START | END, capLen: 100 }, Buffer.alloc(12)),
  ),
  headerCase("none of REQ/RESP/EVENT", "400 bad_flags, closed", () => rawFrame({ flags: START | END })),
  headerCase("REQ and RESP together", "400 bad_flags, closed", () =>
    rawFrame({ flags: REQ | Flags.RESP | START | END }),
  ),
  headerCase("REQ, RESP and EVENT together", "400 bad_flags, closed", () =>
    rawFrame({ flags: REQ | Flags.RESP | Flags.EVENT | START | END }),
  ),
];

const truncationCases: RedteamCase[] = [
  {
    name: "truncated frame, then the client half-closes",
    group: "truncation",
    expected: "no reply, closed",
    async run(t) {
      const conn = await openTls(t);
      try {
        const frame = echoRequest(1n, "truncated");
        conn.write(frame.subarray(0, 20));
        conn.socket.end();
        const closed = await conn.waitClosed(5_000);
        return `${conn.frames.length === 0 ? "no reply" : `${conn.frames.length} frames`}, ${closed ? "closed" : "open"}`;
      } finally {
        conn.close();
      }
    },
  },
  {
    name: "header only, body never arrives (slow-loris)",
    group: "slow",
    expected: "408 request_timeout, closed",
    run: oneShot(() => rawFrame({ len: 1000, flags: REQ | START | END }, undefined, Buffer.alloc(10))),
  },
  {
    name: "header dribbled one byte per second",
    group: "slow",
    expected: "408 request_timeout, closed",
    async run(t) {
      const conn = await openTls(t);
      try {
        const frame = echoRequest(2n, "dribble");
        for (let i = 0; i < frame.byteLength && !conn.closed; i++) {
          conn.write(frame.subarray(i, i + 1));
          const reply = await conn.waitFor((f) => f.code >= 400, 1_000);
          if (reply) break;
        }
        return await outcome(conn);
      } finally {
        conn.close();
      }
    },
  },
  {
    name: "TLS up, no frame ever sent",
    group: "slow",
    expected: "408 request_timeout, closed",
    async run(t) {
      const conn = await openTls(t);
      try {
        return await outcome(conn, undefined, 5_000);
      } finally {
        conn.close();
      }
    },
  },
  {
    name: "a valid request split in two at every byte boundary",
    group: "partial writes",
    expected: "every split echoed, open",
    async run(t) {
      const conn = await openTls(t);
      try {
        const cap = Buffer.alloc(16, 1);
        let echoed = 0;
        const probe = echoRequest(0n, "split me", { cap });
        for (let cut = 1; cut < probe.byteLength; cut++) {
          const corr = BigInt(1000 + cut);
          const frame = echoRequest(corr, "split me", { cap });
          conn.write(frame.subarray(0, cut));
          await sleep(1);
          conn.write(frame.subarray(cut));
          const reply = await conn.waitFor((f) => f.corrId === corr, 3_000);
          if (reply?.code === 200 && Buffer.from(reply.body).toString() === "split me") echoed++;
        }
        const all =
          echoed === probe.byteLength - 1 ? "every split echoed" : `${echoed}/${probe.byteLength - 1} echoed`;
        return `${all}, ${await liveness(conn)}`;
      } finally {
        conn.close();
      }
    },
  },
  {
    name: "two frames written one byte at a time",
    group: "partial writes",
    expected: "2 echoed, open",
    async run(t) {
      const conn = await openTls(t);
      try {
        const bytes = Buffer.concat([echoRequest(1n, "one"), echoRequest(2n, "two")]);
        for (let i = 0; i < bytes.byteLength; i++) conn.write(bytes.subarray(i, i + 1));
        const a = await conn.waitFor((f) => f.corrId === 1n);
        const b = await conn.waitFor((f) => f.corrId === 2n);
        const n = [a, b].filter((f) => f?.code === 200).length;
        return `${n} echoed, ${await liveness(conn)}`;
      } finally {
        conn.close();
      }
    },
  },
];

const echoStart = (corr: bigint, flags = REQ | START) =>
  encodeFrame({ flags, appProtoId: ECHO, corrId: corr, payload: encodeStartPayload({}, Buffer.from("s")) });
const continuation = (corr: bigint, flags: number) =>
  encodeFrame({ flags, appProtoId: ECHO, corrId: corr, payload: Buffer.from("c") });

const streamCases: RedteamCase[] = [
  {
    name: "RESP from a client",
    group: "streams",
    expected: "400 stream_violation, open",
    run: oneShot(
      () =>
        encodeFrame({
          flags: Flags.RESP | START | END,
          code: 200,
          appProtoId: ECHO,
          corrId: 3n,
          payload: encodeStartPayload({}),
        }),
      3n,
    ),
  },
  {
    name: "duplicate START",
    group: "streams",
    expected: "400 stream_violation, open",
    run: oneShot(() => Buffer.concat([echoStart(4n), echoStart(4n)]), 4n),
  },
  {
    name: "END without START",
    group: "streams",
    expected: "400 stream_violation, open",
    run: oneShot(() => continuation(5n, REQ | END), 5n),
  },
  {
    name: "continuation on a closed stream",
    group: "streams",
    expected: "400 stream_violation, open",
    async run(t) {
      const conn = await openRaw(t);
      try {
        conn.write(echoRequest(6n));
        await conn.waitFor((f) => f.corrId === 6n && (f.flags & END) !== 0);
        conn.write(continuation(6n, REQ | END));
        return await outcome(conn, 6n);
      } finally {
        conn.close();
      }
    },
  },
  {
    name: "more streams than max_inflight (8)",
    group: "streams",
    expected: "429 too_many_streams on corr 9, open",
    async run(t) {
      const conn = await openRaw(t);
      try {
        for (let c = 1n; c <= 9n; c++) conn.write(echoStart(c));
        const reply = await conn.waitFor((f) => f.code >= 400);
        // Close the 8 open streams so the HELLO probe has a slot.
        for (let c = 1n; c <= 8n; c++) conn.write(continuation(c, REQ | END));
        await conn.waitFor((f) => f.corrId === 8n && (f.flags & END) !== 0);
        return `${reply?.code} ${reply?.meta?.reason} on corr ${reply?.corrId}, ${await liveness(conn)}`;
      } finally {
        conn.close();
      }
    },
  },
  {
    name: "ACK_REQ flood (5000 EVENT|ACK_REQ frames)",
    group: "streams",
    expected: "5000 × 400 unsupported, open",
    async run(t) {
      const conn = await openRaw(t);
      try {
        const frames: Uint8Array[] = [];
        for (let i = 0; i < 5000; i++) {
          frames.push(
            encodeFrame({
              flags: Flags.EVENT | Flags.ACK_REQ | START | END,
              appProtoId: ECHO,
              corrId: BigInt(i + 1),
              payload: encodeStartPayload({}),
            }),
          );
        }
        conn.write(Buffer.concat(frames));
        await conn.waitFor(() => conn.frames.length >= 5000, 10_000);
        const refused = conn.frames.filter((f) => f.code === 400 && f.meta?.reason === "unsupported").length;
        return `${refused} × 400 unsupported, ${await liveness(conn)}`;
      } finally {
        conn.close();
      }
    },
  },
  {
    name: "mailbox credit-grant flood (5000 EVENT|ACK_REQ, no subscription)",
    group: "streams",
    expected: "2500 ignored, 2500 × 400 bad_meta, open",
    async run(t) {
      const conn = await openRaw(t);
      try {
        const frames: Uint8Array[] = [];
        for (let i = 1; i <= 5000; i++) {
          // Odd corr_ids: a well-formed grant for a subscription that does not exist; even: a bad one.
          frames.push(
            encodeFrame({
              flags: Flags.EVENT | Flags.ACK_REQ | START | END,
              appProtoId: AppProtoId.MAILBOX,
              corrId: BigInt(i),
              payload: encodeStartPayload({ credit: i % 2 === 1 ? 1 : -1 }),
            }),
          );
        }
        conn.write(Buffer.concat(frames));
        // The HELLO probe is answered after every frame before it was handled.
        const live = await liveness(conn);
        const flood = conn.frames.filter((f) => f.corrId >= 1n && f.corrId <= 5000n);
        const answeredGrants = flood.filter((f) => f.corrId % 2n === 1n).length;
        const refused = flood.filter((f) => f.code === 400 && f.meta?.reason === "bad_meta").length;
        return `${2500 - answeredGrants} ignored, ${refused} × 400 bad_meta, ${live}`;
      } finally {
        conn.close();
      }
    },
  },
];

const resourceCases: RedteamCase[] = [
  {
    name: "a client that never reads its replies",
    group: "resources",
    expected: "closed by the node",
    async run(t) {
      const { host, port } = hostPort(t);
      const socket: TLSSocket = await new Promise((resolve, reject) => {
        const s = tlsConnect({ host, port, ca: t.caPem, servername: "localhost" }, () => resolve(s));
        s.once("error", reject);
      });
      socket.on("error", () => {});
      socket.pause();
      const body = Buffer.alloc(60_000, "r");
      // Keep sending echo requests (whose replies are never read) until the node stops taking them.
      let corr = 1n;
      const deadline = Date.now() + 10_000;
      while (!socket.destroyed && Date.now() < deadline) {
        if (!socket.write(echoRequest(corr++, body))) {
          await Promise.race([new Promise((r) => socket.once("drain", r)), sleep(200)]);
        }
      }
      const closed = await closedWithin(socket, 10_000);
      socket.destroy();
      return closed ? "closed by the node" : "still open";
    },
  },
  {
    name: "2000 connections opened and abandoned",
    group: "resources",
    expected: "all 2000 closed by the node",
    async run(t) {
      // 1000 bare TCP (no handshake), 1000 TLS that never send a frame: the handshake and
      // first-header limits must close every one of them. A TLS connect the node dropped
      // before it completed (its handshake limit, on a busy machine) was closed by the node too.
      const closings: Array<Promise<boolean>> = [];
      const all: Socket[] = [];
      for (let i = 0; i < 1000; i++) {
        const s = await openTcp(t).catch(() => undefined);
        if (!s) continue;
        s.on("error", () => {});
        all.push(s);
        closings.push(closedWithin(s, 15_000));
      }
      let droppedInHandshake = 0;
      for (let batch = 0; batch < 10; batch++) {
        const conns = await Promise.all(Array.from({ length: 100 }, () => openTls(t).catch(() => undefined)));
        for (const c of conns) {
          if (!c) {
            droppedInHandshake++;
            continue;
          }
          all.push(c.socket);
          closings.push(closedWithin(c.socket, 15_000));
        }
      }
      const closed = (await Promise.all(closings)).filter(Boolean).length + droppedInHandshake;
      for (const s of all) s.destroy();
      return closed === 2000 ? "all 2000 closed by the node" : `${closed}/2000 closed`;
    },
  },
  {
    name: "quota storm: 200 tenants × 6 requests (quota burst 3)",
    group: "resources",
    expected: "every tenant: 3 × 200, then 429 quota",
    async run(t) {
      const conns = await Promise.all(Array.from({ length: 4 }, () => openRaw(t)));
      try {
        // Tenants of their own per transport: the twin over WebSocket starts with full buckets.
        const first = t.transport === "wss" ? 1001 : 1;
        const tenants = Array.from({ length: 200 }, (_, i) => BigInt(i + first));
        const frames = conns.map(() => [] as Uint8Array[]);
        tenants.forEach((tenant, i) => {
          for (let k = 0; k < 6; k++)
            frames[i % 4]?.push(echoRequest(tenant * 100n + BigInt(k), "q", { tenant }));
        });
        for (const [i, c] of conns.entries()) c.write(Buffer.concat(frames[i] ?? []));
        await Promise.all(
          conns.map((c, i) => c.waitFor(() => c.frames.length >= (frames[i]?.length ?? 0), 10_000)),
        );
        const seen = conns.flatMap((c) => c.frames);
        let good = 0;
        for (const tenant of tenants) {
          const codes = [0, 1, 2, 3, 4, 5].map((k) =>
            seen.find((f) => f.corrId === tenant * 100n + BigInt(k)),
          );
          const ok = codes.slice(0, 3).every((f) => f?.code === 200);
          const limited = codes.slice(3).some((f) => f?.code === 429 && f.meta?.reason === "quota");
          if (ok && limited) good++;
        }
        return good === tenants.length
          ? "every tenant: 3 × 200, then 429 quota"
          : `${good}/${tenants.length} tenants limited as configured`;
      } finally {
        for (const c of conns) c.close();
      }
    },
  },
];

const compressionCases: RedteamCase[] = [
  compCase("zstd bomb 512 MiB from 16 KiB", "413 ratio_cap, open", () => rleBomb(17, 128 * 1024, 4096)),
  compCase("declared content size 1 TiB (single segment)", "413 decompress_cap, open", () =>
    declaredSizeBomb(1n << 40n),
  ),
  compCase("declared 1 TiB, small window", "413 ratio_cap, open", () =>
    rleBomb(17, 128 * 1024, 64, 1n << 40n),
  ),
  compCase("tiny window descriptor (1 KiB), many blocks", "413 ratio_cap, open", () =>
    rleBomb(10, 1024, 1000),
  ),
  compCase("concatenated frames, each under the caps", "413 ratio_cap, open", () =>
    Buffer.concat(Array.from({ length: 200 }, () => rleBomb(16, 60_000, 1))),
  ),
  compCase("garbage after a valid frame", "400 bad_compression, open", () =>
    Buffer.concat([compressBody(Buffer.from("fine")), garbage(64)]),
  ),
  compCase("random bytes flagged COMP", "400 bad_compression, open", () =>
    // Magic, then a header asking for a 1 KiB window (random header bytes may ask for a window past the cap: 413), then garbage.
    Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x00]), garbage(256)]),
  ),
  {
    name: "nested: a zstd frame whose content is a bomb",
    group: "compression",
    expected: "200, inner bomb echoed not inflated, open",
    async run(t) {
      const conn = await openRaw(t);
      try {
        const inner = rleBomb(17, 128 * 1024, 64);
        conn.write(echoRequest(8n, compressBody(inner), { flags: Flags.COMP }));
        const reply = await conn.waitFor((f) => f.corrId === 8n);
        const exact = reply ? Buffer.from(reply.body).equals(Buffer.from(inner)) : false;
        return `${reply?.code}, ${exact ? "inner bomb echoed not inflated" : "body differs"}, ${await liveness(conn)}`;
      } finally {
        conn.close();
      }
    },
  },
  {
    name: "bomb spread over continuation frames",
    group: "compression",
    expected: "413 ratio_cap, open",
    async run(t) {
      const conn = await openRaw(t);
      try {
        const bomb = rleBomb(17, 128 * 1024, 1024);
        const head = bomb.subarray(0, 10);
        conn.write(
          encodeFrame({
            flags: REQ | START | Flags.COMP,
            appProtoId: ECHO,
            corrId: 9n,
            payload: encodeStartPayload({}, head),
          }),
        );
        for (let i = 10; i < bomb.byteLength; i += 400) {
          const last = i + 400 >= bomb.byteLength;
          conn.write(
            encodeFrame({
              flags: REQ | Flags.COMP | (last ? END : 0),
              appProtoId: ECHO,
              corrId: 9n,
              payload: bomb.subarray(i, i + 400),
            }),
          );
        }
        return await outcome(conn, 9n);
      } finally {
        conn.close();
      }
    },
  },
];

const miscCases: RedteamCase[] = [
  {
    name: "capability of 4097 bytes",
    group: "capability",
    expected: "413 cap_too_large, open",
    run: oneShot(() => echoRequest(10n, "x", { cap: garbage(4097) }), 10n),
  },
  {
    name: "capability of 60000 bytes",
    group: "capability",
    expected: "413 cap_too_large, open",
    run: oneShot(() => echoRequest(11n, "x", { cap: garbage(60_000) }), 11n),
  },
  {
    name: "random bytes on 50 connections",
    group: "garbage",
    expected: "50/50 answered 4xx and closed",
    async run(t) {
      const conns = await Promise.all(Array.from({ length: 50 }, () => openRaw(t)));
      try {
        for (const c of conns) c.write(garbage(4096));
        const results = await Promise.all(
          conns.map(async (c) => {
            const reply = await c.waitFor((f) => f.code >= 400);
            return reply !== undefined && reply.code < 500 && (await c.waitClosed());
          }),
        );
        return `${results.filter(Boolean).length}/50 answered 4xx and closed`;
      } finally {
        for (const c of conns) c.close();
      }
    },
  },
  {
    name: "garbage before the TLS handshake",
    group: "tls",
    expected: "closed",
    async run(t) {
      const s = await openTcp(t);
      s.on("error", () => {});
      // Random bytes after a first byte that is no TLS record type: a random first byte of
      // 0x16 (handshake) with a plausible length makes the server wait, rightly, for the rest
      // of that record until its handshake timeout — about 1 run in 256 before this.
      s.write(Buffer.concat([Buffer.from([0x00]), garbage(2047)]));
      const closed = await closedWithin(s, 5_000);
      s.destroy();
      return closed ? "closed" : "still open";
    },
  },
  {
    name: "garbage injected below TLS after the handshake",
    group: "tls",
    expected: "closed",
    async run(t) {
      // A TCP relay between client and node that can write raw bytes towards the node.
      const upstreams: Socket[] = [];
      const relay = createServer((client) => {
        const up = tcpConnect(hostPort(t));
        upstreams.push(up);
        client.pipe(up).pipe(client);
        client.on("error", () => {});
        up.on("error", () => {});
      });
      await new Promise<void>((r) => relay.listen(0, "127.0.0.1", r));
      const port = (relay.address() as { port: number }).port;
      try {
        const conn = await RawOapConnection.open(`oap+tls://127.0.0.1:${port}`, t.caPem);
        try {
          conn.write(helloFrame());
          await conn.waitFor((f) => f.code === 200);
          const up = upstreams[0] as Socket;
          // A TLS application-data record whose MAC cannot verify, then random bytes.
          up.write(Buffer.concat([Buffer.from([0x17, 0x03, 0x03, 0x00, 0x40]), garbage(64), garbage(256)]));
          // The node's side of the relay is what must close (the relay does not pass a reset on),
          // and well before the 5 s idle limit could explain it.
          const closed = await closedWithin(up, 2_000);
          return closed ? "closed" : "still open";
        } finally {
          conn.close();
        }
      } finally {
        for (const u of upstreams) u.destroy();
        await new Promise((r) => relay.close(r));
      }
    },
  },
];

function helloFrame(): Uint8Array {
  return encodeFrame({
    flags: REQ | START | END,
    appProtoId: 0,
    corrId: 77n,
    payload: encodeStartPayload({}),
  });
}

/**
 * The frame-level cases that hold on any transport, run again over WebSocket: the same
 * expectation, the bytes sent one message per frame (RawWssConnection.write).
 */
function overWss(c: RedteamCase): RedteamCase {
  return {
    ...c,
    name: `${c.name} [wss]`,
    group: `${c.group} (wss)`,
    run: (t) => c.run({ ...t, transport: "wss" }),
  };
}

const capabilityCases = miscCases.filter((c) => c.group === "capability");
const WSS_TWINS = [
  ...headerCases,
  ...streamCases,
  ...compressionCases.filter((c) => c.group === "compression"),
  ...capabilityCases,
  ...miscCases.filter((c) => c.group === "garbage" || c.name === "garbage before the TLS handshake"),
  ...resourceCases.filter((c) => c.name.startsWith("quota storm")),
].map(overWss);

export const REDTEAM_CASES: RedteamCase[] = [
  ...headerCases,
  ...truncationCases,
  ...streamCases,
  ...compressionCases,
  ...miscCases,
  ...resourceCases,
  ...WSS_TWINS,
  ...WSS_CASES,
];
