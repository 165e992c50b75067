import { type Socket, connect as tcpConnect } from "node:net";
import { connect as tlsConnect } from "node:tls";
import WebSocket from "ws";
import type { RawWssConnection } from "../support/raw-wss.js";
import type { RedteamCase } from "./cases.js";
import {
  closedWithin,
  echoRequest,
  garbage,
  liveness,
  openWss,
  outcome,
  sleep,
  type Target,
} from "./wire.js";

/**
 * Attacks that only a WebSocket transport has (specs/oap-1.md §12.1): messages that break
 * the one-frame-per-message rule, upgrades that never finish or ask for the wrong thing, and
 * the connection floods of the TLS cases, at the WebSocket listener.
 */

const MAX_FRAME = 1_048_576;

/** The outcome for `corr`, with the close code the node sent when it closed. */
async function wssOutcome(conn: RawWssConnection, corr?: bigint): Promise<string> {
  const result = await outcome(conn, corr);
  return conn.closed ? `${result} ${conn.closeCode}` : result;
}

/** A fresh WebSocket, one message as given, then the outcome. */
function oneMessage(message: () => Uint8Array | string, corr?: bigint): (t: Target) => Promise<string> {
  return async (t) => {
    const conn = await openWss(t);
    try {
      conn.send(message());
      return await wssOutcome(conn, corr);
    } finally {
      conn.close();
    }
  };
}

/** What the node answers to an upgrade request (an HTTP status), or "upgraded". */
function upgradeStatus(t: Target, path: string, options: WebSocket.ClientOptions, protocol = "oap.1") {
  const url = t.wsUrl.replace(/\/oap$/, path);
  return new Promise<string>((resolve) => {
    const ws = new WebSocket(url, protocol === "" ? [] : protocol, { ca: t.caPem, ...options });
    ws.once("open", () => {
      ws.terminate();
      resolve("upgraded");
    });
    ws.once("unexpected-response", (_req, res) => {
      res.resume();
      resolve(`HTTP ${res.statusCode}`);
      ws.terminate();
    });
    ws.once("error", (err) => resolve(`error: ${err.message}`));
  });
}

/** A TLS connection to the WebSocket port that has not sent a byte of HTTP. */
function openTlsToWsPort(t: Target): Promise<Socket> {
  const { hostname, port } = new URL(t.wsUrl.replace(/^wss:/, "https:"));
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: hostname, port: Number(port), ca: t.caPem, servername: "localhost" }, () =>
      resolve(s),
    );
    s.once("error", reject);
  });
}

function tcpToWsPort(t: Target): Promise<Socket> {
  const { hostname, port } = new URL(t.wsUrl.replace(/^wss:/, "https:"));
  return new Promise((resolve, reject) => {
    const s = tcpConnect({ host: hostname, port: Number(port) }, () => resolve(s));
    s.once("error", reject);
  });
}

function wsClosedWithin(conn: RawWssConnection, ms: number): Promise<number | undefined> {
  return conn.waitClosed(ms).then((closed) => (closed ? conn.closeCode : undefined));
}

export const WSS_CASES: RedteamCase[] = [
  {
    name: "a text message",
    group: "wss framing",
    expected: "400 bad_frame, closed 1003",
    run: oneMessage(() => '{"op":"hello"}'),
  },
  {
    name: "a frame split over two messages",
    group: "wss framing",
    expected: "400 bad_frame, closed 1002",
    async run(t) {
      const conn = await openWss(t);
      try {
        const frame = echoRequest(21n, "split over messages");
        conn.send(frame.subarray(0, 45));
        conn.send(frame.subarray(45));
        return await wssOutcome(conn, 21n);
      } finally {
        conn.close();
      }
    },
  },
  {
    name: "two frames in one message",
    group: "wss framing",
    expected: "400 bad_frame, closed 1002",
    run: oneMessage(() => Buffer.concat([echoRequest(22n, "one"), echoRequest(23n, "two")]), 22n),
  },
  {
    name: "a 10-byte message",
    group: "wss framing",
    expected: "400 bad_frame, closed 1002",
    run: oneMessage(() => garbage(10)),
  },
  {
    name: "a message of max_frame + 1 bytes",
    group: "wss framing",
    expected: "no reply, closed 1009",
    run: oneMessage(() => garbage(MAX_FRAME + 1)),
  },
  {
    name: "one frame sent as three WebSocket fragments",
    group: "wss framing",
    expected: "echoed, open",
    async run(t) {
      const conn = await openWss(t);
      try {
        const frame = echoRequest(24n, "three fragments of one message");
        conn.ws.send(frame.subarray(0, 10), { binary: true, fin: false });
        conn.ws.send(frame.subarray(10, 50), { binary: true, fin: false });
        conn.ws.send(frame.subarray(50), { binary: true, fin: true });
        const reply = await conn.waitFor((f) => f.corrId === 24n);
        const echoed =
          reply?.code === 200 && Buffer.from(reply.body).toString() === "three fragments of one message";
        return `${echoed ? "echoed" : "not echoed"}, ${await liveness(conn)}`;
      } finally {
        conn.close();
      }
    },
  },
  {
    name: "a message whose last fragment never arrives (slow-loris)",
    group: "wss slow",
    expected: "408 request_timeout, closed 1002",
    async run(t) {
      const conn = await openWss(t);
      try {
        conn.ws.send(echoRequest(25n, "never finished").subarray(0, 40), { binary: true, fin: false });
        return await wssOutcome(conn);
      } finally {
        conn.close();
      }
    },
  },
  {
    name: "WebSocket open, no frame ever sent",
    group: "wss slow",
    expected: "408 request_timeout, closed 1002",
    async run(t) {
      const conn = await openWss(t);
      try {
        return await wssOutcome(conn);
      } finally {
        conn.close();
      }
    },
  },
  {
    name: "TLS up, the upgrade request never finishes",
    group: "wss slow",
    expected: "HTTP 408, closed",
    async run(t) {
      const s = await openTlsToWsPort(t);
      s.on("error", () => {});
      let answer = "";
      s.on("data", (d: Buffer) => {
        answer += d.toString();
      });
      s.write("GET /oap HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n");
      const closed = await closedWithin(s, 5_000);
      s.destroy();
      const status = /^HTTP\/1\.1 (\d+)/.exec(answer)?.[1];
      return `${status ? `HTTP ${status}` : "no answer"}, ${closed ? "closed" : "still open"}`;
    },
  },
  {
    name: "upgrade on another path",
    group: "wss upgrade",
    expected: "HTTP 404",
    run: (t) => upgradeStatus(t, "/other", {}),
  },
  {
    name: "upgrade without the oap.1 subprotocol",
    group: "wss upgrade",
    expected: "HTTP 400",
    run: (t) => upgradeStatus(t, "/oap", {}, "chat"),
  },
  {
    name: "upgrade from a page of another site",
    group: "wss upgrade",
    expected: "HTTP 403",
    run: (t) => upgradeStatus(t, "/oap", { origin: "https://attacker.example" }),
  },
  {
    name: "upgrade asking for permessage-deflate",
    group: "wss upgrade",
    expected: "upgraded without compression",
    async run(t) {
      const ws = new WebSocket(t.wsUrl, "oap.1", { ca: t.caPem, perMessageDeflate: true });
      ws.on("error", () => {});
      await new Promise((resolve) => ws.once("open", resolve));
      const extensions = ws.extensions;
      ws.terminate();
      return extensions === "" ? "upgraded without compression" : `negotiated ${extensions}`;
    },
  },
  {
    name: "a WebSocket client that never reads its replies",
    group: "wss resources",
    expected: "closed by the node",
    async run(t) {
      const conn = await openWss(t);
      try {
        // Stop reading the TLS socket under the WebSocket: replies pile up at the node.
        conn.ws.pause();
        const body = Buffer.alloc(60_000, "r");
        let corr = 1n;
        const deadline = Date.now() + 10_000;
        while (!conn.closed && Date.now() < deadline) {
          conn.write(echoRequest(corr++, body));
          if (conn.ws.bufferedAmount > 1024 * 1024) await sleep(50);
        }
        return (await conn.waitClosed(10_000)) ? "closed by the node" : "still open";
      } finally {
        conn.close();
      }
    },
  },
  {
    name: "2000 upgrade attempts from one address",
    group: "wss resources",
    expected: "all 2000 closed by the node, every WebSocket with 1002",
    async run(t) {
      // 1000 bare TCP connections (no TLS), then 1000 WebSockets that upgrade and never send a
      // frame: the handshake and first-header limits must close every one.
      const closings: Array<Promise<boolean>> = [];
      const sockets: Socket[] = [];
      for (let i = 0; i < 1000; i++) {
        const s = await tcpToWsPort(t).catch(() => undefined);
        if (!s) continue;
        s.on("error", () => {});
        sockets.push(s);
        closings.push(closedWithin(s, 15_000));
      }
      const codes: Array<Promise<number | undefined>> = [];
      const conns: RawWssConnection[] = [];
      let droppedInHandshake = 0;
      for (let batch = 0; batch < 10; batch++) {
        const opened = await Promise.all(
          Array.from({ length: 100 }, () => openWss(t).catch(() => undefined)),
        );
        for (const c of opened) {
          if (!c) {
            droppedInHandshake++;
            continue;
          }
          conns.push(c);
          codes.push(wsClosedWithin(c, 15_000));
        }
      }
      const tcpClosed = (await Promise.all(closings)).filter(Boolean).length;
      const wsCodes = await Promise.all(codes);
      for (const s of sockets) s.destroy();
      for (const c of conns) c.close();
      const wsClosed = wsCodes.filter((c) => c !== undefined).length + droppedInHandshake;
      const with1002 = wsCodes.filter((c) => c === 1002).length;
      const closed = tcpClosed + wsClosed;
      const allCodes =
        with1002 + droppedInHandshake === 1000 ? "every WebSocket with 1002" : `${with1002} with 1002`;
      return closed === 2000
        ? `all 2000 closed by the node, ${allCodes}`
        : `${closed}/2000 closed, ${allCodes}`;
    },
  },
];
