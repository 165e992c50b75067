import { connect } from "node:tls";
import type { EchoTarget } from "../support/load.js";
import { PipelinedClient } from "./pipelined-client.js";
import { RAW_FRAMING } from "./raw-frame.js";

/**
 * Opens one TLS connection to the raw-TLS baseline server, verifying it against `ca`, driven by
 * the same pipelined client as the minimal OAP/1 client (bench/oap-echo/minimal-oap-client.ts).
 */
export function connectRawTls(host: string, port: number, ca: string): Promise<EchoTarget> {
  return new Promise((resolve, reject) => {
    const socket = connect(
      { host, port, ca, minVersion: "TLSv1.3", ALPNProtocols: ["oap-raw-bench"] },
      () => {
        socket.off("error", reject);
        resolve(new PipelinedClient(socket, RAW_FRAMING));
      },
    );
    socket.once("error", reject);
  });
}
