import { OapConnectionError } from "./errors.js";
import { isUntrustedError } from "./trust.js";

/**
 * A failure to open a connection from Node (TCP, TLS, the trust checks) as an
 * OapConnectionError: "tls_untrusted" when the certificate is not trusted, else
 * "connect_failed", retryable unless the TLS protocol itself failed.
 */
export function connectError(error: Error, target: string): OapConnectionError {
  if (isUntrustedError(error)) {
    return new OapConnectionError(
      `the TLS certificate of ${target} is not trusted (${error.message}); pass the node's CA as ca/caFile, pin it with fingerprint, or use insecure: true in development`,
      { reason: "tls_untrusted", retryable: false, cause: error },
    );
  }
  const code = (error as NodeJS.ErrnoException).code;
  // A TLS protocol failure (version, ALPN, alert) will not change on retry; a refused or reset socket may.
  const retryable = !(typeof code === "string" && code.startsWith("ERR_SSL_"));
  return new OapConnectionError(`cannot connect to ${target}: ${error.message}`, {
    reason: "connect_failed",
    retryable,
    cause: error,
  });
}

/** The node closed the connection while it was being opened (`during` the TLS handshake, the WebSocket upgrade). */
export function closedWhileOpening(target: string, during: string): OapConnectionError {
  return new OapConnectionError(`${target} closed the connection during ${during}`, {
    reason: "connect_failed",
  });
}
