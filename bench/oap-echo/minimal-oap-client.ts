import { connect, type TLSSocket } from "node:tls";
import { AppProtoId, encodeFrame, encodeStartPayload, Flags, HEADER_LEN, OAP_VERSION } from "@omnigate/oap";
import type { EchoTarget } from "../support/load.js";
import { type EchoFraming, PipelinedClient } from "./pipelined-client.js";

/**
 * The least an OAP/1 client can do per echo: a REQ|START|END frame with empty meta (meta_len
 * 0, the node's default deadline) and no capability (the one HELLO bound, when there is one),
 * encoded in place from a header template; a reply is checked by its header alone. Driven by
 * the same pipelined client as the raw-TLS floor, so the node's server CPU per request can be
 * set against the raw server's with identical client behaviour on the wire.
 */
function oapEchoFraming(appProtoId: number, tenantId: bigint): EchoFraming {
  const template = Buffer.alloc(HEADER_LEN + 2);
  template.writeUInt16BE(OAP_VERSION, 4);
  template.writeUInt16BE(Flags.REQ | Flags.START | Flags.END, 6);
  template.writeUInt16BE(appProtoId, 10);
  template.writeBigUInt64BE(tenantId >> 64n, 12);
  template.writeBigUInt64BE(tenantId & 0xffff_ffff_ffff_ffffn, 20);
  const done = Flags.RESP | Flags.START | Flags.END;
  return {
    prefixBytes: 4,
    requestLength: (bodyBytes) => HEADER_LEN + 2 + bodyBytes,
    writeRequest(into, at, id, body) {
      template.copy(into, at);
      into.writeUInt32BE(HEADER_LEN + 2 + body.byteLength, at);
      into.writeUInt32BE(id, at + 34); // low word of corr_id; the high word stays 0
      into.set(body, at + HEADER_LEN + 2);
    },
    frameLength: (bytes, at) => bytes.readUInt32BE(at),
    replyId(frame) {
      const flags = frame.readUInt16BE(6);
      if (flags & Flags.EVENT) return -1; // a control push (e.g. revocations): not an answer
      const code = frame.readUInt16BE(8);
      if (flags !== done || code !== 200) {
        throw new Error(`oap echo answered code ${code} flags 0x${flags.toString(16)}: ${describe(frame)}`);
      }
      return frame.readUInt32BE(34);
    },
    replyBodyBytes(frame) {
      const capLen = frame.readUInt16BE(28);
      const metaLen = frame.readUInt16BE(HEADER_LEN + capLen);
      return frame.byteLength - HEADER_LEN - capLen - 2 - metaLen;
    },
  };
}

/** The reply's meta as text, for an error message. */
function describe(frame: Buffer): string {
  const capLen = frame.readUInt16BE(28);
  const metaAt = HEADER_LEN + capLen;
  if (frame.byteLength < metaAt + 2) return "(no meta)";
  return frame.toString("utf8", metaAt + 2, metaAt + 2 + frame.readUInt16BE(metaAt));
}

/**
 * Connects to the node's OAP/1 listener, says HELLO (binding `cap` when given, and failing if
 * the node does not bind it), then hands the connection to the pipelined client.
 */
export async function connectMinimalOap(
  host: string,
  port: number,
  ca: string,
  options: { cap?: Uint8Array; tenantId?: bigint; appProtoId?: number } = {},
): Promise<EchoTarget> {
  const socket = await new Promise<TLSSocket>((resolve, reject) => {
    const s = connect({ host, port, ca, servername: "localhost", minVersion: "TLSv1.3" }, () => {
      s.off("error", reject);
      resolve(s);
    });
    s.once("error", reject);
  });
  const tenantId = options.tenantId ?? 0n;
  const helloMeta = await hello(socket, tenantId, options.cap);
  if (options.cap && (helloMeta.cap as { bound?: boolean } | undefined)?.bound !== true) {
    socket.destroy();
    throw new Error(`the node did not bind the capability: ${JSON.stringify(helloMeta.cap)}`);
  }
  // HELLO used corr_id 1; requests start after it.
  return new PipelinedClient(socket, oapEchoFraming(options.appProtoId ?? AppProtoId.ECHO, tenantId), 2);
}

function hello(
  socket: TLSSocket,
  tenantId: bigint,
  cap: Uint8Array | undefined,
): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    let bytes = Buffer.alloc(0);
    const onClose = () => reject(new Error("the node closed the connection before its HELLO reply"));
    const onData = (chunk: Buffer) => {
      bytes = Buffer.concat([bytes, chunk]);
      if (bytes.byteLength < 4 || bytes.byteLength < bytes.readUInt32BE(0)) return;
      socket.off("data", onData);
      socket.off("error", reject);
      socket.off("close", onClose);
      const frame = bytes.subarray(0, bytes.readUInt32BE(0));
      if (bytes.byteLength > frame.byteLength) socket.unshift(bytes.subarray(frame.byteLength));
      const code = frame.readUInt16BE(8);
      if (code !== 200) return reject(new Error(`HELLO answered ${code}: ${describe(frame)}`));
      resolve(JSON.parse(describe(frame)) as Record<string, unknown>);
    };
    socket.on("data", onData);
    socket.once("error", reject);
    socket.once("close", onClose);
    socket.write(
      encodeFrame({
        flags: Flags.REQ | Flags.START | Flags.END,
        appProtoId: AppProtoId.CONTROL,
        tenantId,
        corrId: 1n,
        ...(cap ? { cap } : {}),
        payload: encodeStartPayload({ versions: [OAP_VERSION], client: "omnigate-bench-minimal" }),
      }),
    );
  });
}
