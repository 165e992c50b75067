import { type TLSSocket, connect as tlsConnect } from "node:tls";
import type { ByteSink, StreamSink } from "@omnigate/oap/internal";
import { closedWhileOpening, connectError } from "./connect-error.js";
import { OapConnectionError } from "./errors.js";
import type { ClientTransport, TransportReceiver } from "./transport.js";
import { type TrustSettings, verifyPinnedPeer } from "./trust.js";
import { describeAddress, type NodeAddress } from "./url.js";

export const ALPN_PROTOCOL = "oap/1";

/**
 * OAP/1 over TLS: frames back to back on the socket's byte stream (specs/oap-1.md §12). The
 * socket itself is the sink and its events go straight to the receiver, so the TLS path is
 * as direct as before transports existed.
 */
export class TlsTransport implements ClientTransport {
  constructor(private readonly socket: TLSSocket) {}

  get sink(): ByteSink {
    return this.socket;
  }

  get byteStream(): StreamSink {
    return this.socket;
  }

  get destroyed(): boolean {
    return this.socket.destroyed;
  }

  attach(receiver: TransportReceiver): void {
    const socket = this.socket;
    socket.on("data", receiver.data);
    socket.on("error", (error) => receiver.ending(`connection to the node failed: ${error.message}`, error));
    socket.on("end", () => receiver.ending("the node closed the connection"));
    socket.on("close", () => receiver.closed());
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  end(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** Opens TCP and TLS 1.3 with ALPN oap/1 to `address`, with the trust and pin checks done. */
export function openTls(
  address: NodeAddress,
  trust: TrustSettings,
  signal: AbortSignal,
): Promise<TlsTransport> {
  const target = describeAddress(address);
  const socket = tlsConnect({
    host: address.host,
    port: address.port,
    ...trust.tls,
    ALPNProtocols: [ALPN_PROTOCOL],
    minVersion: "TLSv1.3",
  });
  return new Promise((resolve, reject) => {
    const fail = (error: unknown) => {
      socket.off("secureConnect", onSecure);
      socket.off("error", onError);
      socket.off("close", onClose);
      signal.removeEventListener("abort", onAbort);
      // A late error from the torn-down socket has nobody left to tell.
      socket.on("error", () => {});
      socket.destroy();
      reject(error);
    };
    const onAbort = () => fail(signal.reason);
    const onError = (error: Error) => fail(connectError(error, target));
    const onClose = () => fail(closedWhileOpening(target, "the TLS handshake"));
    const onSecure = () => {
      const pin = trust.pin;
      const pinFailure = pin === undefined ? undefined : verifyPinnedPeer(socket, pin);
      if (pinFailure) {
        fail(connectError(pinFailure, target));
        return;
      }
      if (socket.alpnProtocol && socket.alpnProtocol !== ALPN_PROTOCOL) {
        fail(
          new OapConnectionError(
            `${target} negotiated ALPN "${socket.alpnProtocol}", not ${ALPN_PROTOCOL}; is this an Omnigate node?`,
            { reason: "connect_failed", retryable: false },
          ),
        );
        return;
      }
      socket.off("error", onError);
      socket.off("close", onClose);
      signal.removeEventListener("abort", onAbort);
      socket.setNoDelay(true);
      resolve(new TlsTransport(socket));
    };
    socket.once("secureConnect", onSecure);
    socket.once("error", onError);
    socket.once("close", onClose);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
