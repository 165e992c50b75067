import { randomBytes } from "node:crypto";
import { type Socket, connect as tcpConnect } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { encodeFrame, encodeStartPayload, Flags } from "@omnigate/oap";
import type { RawFrames, SeenFrame } from "../support/raw-frames.js";
import { RawOapConnection } from "../support/raw-oap.js";
import { RawWssConnection } from "../support/raw-wss.js";

/** Where the attacked node listens. */
export interface Target {
  oapUrl: string;
  wsUrl: string;
  caPem: string;
  adminUrl: string;
  pid: number;
  /** The transport that cases written for either one attack over (default tls). */
  transport?: "tls" | "wss";
}

export const ECHO = 0x0101;

/** Header fields of a frame built by hand, so invalid headers can be put on the wire. */
export interface RawHeader {
  len?: number;
  ver?: number;
  flags: number;
  code?: number;
  app?: number;
  tenant?: bigint;
  capLen?: number;
  corr?: bigint;
}

/** 38 header bytes written field by field (specs/oap-1.md §2), then cap and payload as given. */
export function rawFrame(
  h: RawHeader,
  cap: Uint8Array = new Uint8Array(0),
  payload: Uint8Array = new Uint8Array(0),
): Buffer {
  const head = Buffer.alloc(38);
  head.writeUInt32BE(h.len ?? 38 + cap.byteLength + payload.byteLength, 0);
  head.writeUInt16BE(h.ver ?? 1, 4);
  head.writeUInt16BE(h.flags, 6);
  head.writeUInt16BE(h.code ?? 0, 8);
  head.writeUInt16BE(h.app ?? ECHO, 10);
  const tenant = h.tenant ?? 0n;
  head.writeBigUInt64BE(tenant >> 64n, 12);
  head.writeBigUInt64BE(tenant & 0xffff_ffff_ffff_ffffn, 20);
  head.writeUInt16BE(h.capLen ?? cap.byteLength, 28);
  head.writeBigUInt64BE(h.corr ?? 1n, 30);
  return Buffer.concat([head, cap, payload]);
}

/** A one-frame echo request. */
export function echoRequest(
  corrId: bigint,
  body: Uint8Array | string = "x",
  extra: { flags?: number; tenant?: bigint; cap?: Uint8Array } = {},
): Uint8Array {
  return encodeFrame({
    flags: Flags.REQ | Flags.START | Flags.END | (extra.flags ?? 0),
    appProtoId: ECHO,
    tenantId: extra.tenant ?? 0n,
    corrId,
    cap: extra.cap,
    payload: encodeStartPayload({}, typeof body === "string" ? Buffer.from(body) : body),
  });
}

export function helloRequest(corrId: bigint): Uint8Array {
  return encodeFrame({
    flags: Flags.REQ | Flags.START | Flags.END,
    appProtoId: 0,
    corrId,
    payload: encodeStartPayload({}),
  });
}

export function openTls(t: Target): Promise<RawOapConnection> {
  return RawOapConnection.open(t.oapUrl, t.caPem);
}

export function openWss(t: Target): Promise<RawWssConnection> {
  return RawWssConnection.open(t.wsUrl, t.caPem);
}

/** A raw connection over the target's transport: what cases that hold on both are written with. */
export function openRaw(t: Target): Promise<RawFrames> {
  return t.transport === "wss" ? openWss(t) : openTls(t);
}

/** The address of the listener of the target's transport. */
export function hostPort(t: Target): { host: string; port: number } {
  const url =
    t.transport === "wss" ? t.wsUrl.replace(/^wss:/, "https:") : t.oapUrl.replace(/^oap\+tls:/, "https:");
  const { hostname, port } = new URL(url);
  return { host: hostname, port: Number(port) };
}

/** A plain TCP connection to the target's port (no TLS), for garbage before the handshake. */
export function openTcp(t: Target): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = tcpConnect(hostPort(t), () => resolve(s));
    s.once("error", reject);
  });
}

/** Resolves true once the socket is closed, false if still open after `ms`. */
export function closedWithin(s: Socket, ms: number): Promise<boolean> {
  if (s.destroyed || s.closed) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    s.once("close", () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function describeError(f: SeenFrame | undefined): string {
  if (!f) return "no reply";
  return `${f.code} ${f.meta?.reason ?? "-"}`;
}

/**
 * What became of a connection after an attack: the error frame for `corrId` (or the first
 * error frame at all), then whether the connection still serves — it is sent a HELLO and
 * either answers it ("open") or is closed by the node ("closed").
 */
export async function outcome(conn: RawFrames, corrId?: bigint, waitMs = 5_000): Promise<string> {
  const reply = await conn.waitFor(
    (f) => f.code >= 400 && (corrId === undefined || f.corrId === corrId),
    waitMs,
  );
  return `${describeError(reply)}, ${await liveness(conn)}`;
}

let probeId = 0xfe_0000n;

/** "open" if the connection answers a HELLO, "closed" if the node closed it. */
export async function liveness(conn: RawFrames): Promise<string> {
  if (conn.closed) return "closed";
  const id = probeId++;
  conn.write(helloRequest(id));
  const reply = await conn.waitFor((f) => f.corrId === id, 5_000);
  if (reply?.code === 200) return "open";
  return (await conn.waitClosed(5_000)) ? "closed" : "hung";
}

export function garbage(n: number): Buffer {
  return randomBytes(n);
}

/** Opens a TLS connection through `socket` (for a proxy that injects bytes below TLS). */
export function tlsOver(socket: Socket, caPem: string): Promise<ReturnType<typeof tlsConnect>> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ socket, ca: caPem, servername: "localhost" }, () => resolve(s));
    s.once("error", reject);
  });
}
