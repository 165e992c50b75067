/**
 * What to do about an error, by reason: one short line a CLI can print under the message.
 * The CLI flags named (--node, --ca-file, --cap-file) are ronctl's and the examples'; the
 * environment variables are what connect() itself reads.
 */
const HINTS: Readonly<Record<string, string>> = {
  connect_failed: "is a node running? start one with npm start, or pass --node/RON_NODE_URL",
  connect_timeout: "no answer in time: check the address (--node/RON_NODE_URL) and that the node is up",
  connection_lost: "the connection dropped: try again, and check that the node is still running",
  tls_untrusted:
    "trust the node's CA with --ca-file/RON_CA_FILE (a local node's is <data dir>/tls/ca.pem; its banner shows it)",
  bad_hello: "the peer is not an OAP/1 node: check the URL (--node/RON_NODE_URL)",
  protocol_error: "the peer broke OAP/1: check that the URL (--node/RON_NODE_URL) names an Omnigate node",
  unauthenticated:
    "send a capability with --cap/--cap-file/RON_CAP (a local node keeps one in <data dir>/auth/dev.cap), or mint one with ronctl cap mint",
  cap_expired: "the capability expired: mint a new one with ronctl cap mint",
  cap_revoked: "the capability was revoked: mint a new one with ronctl cap mint",
  forbidden: "the capability does not allow this app, op or topic: mint one that does with ronctl cap mint",
  tenant_mismatch:
    "the capability is for another tenant: pass that tenant (--tenant) or mint one for this one",
  unknown_app:
    "the node serves no such app: check the app id, or route it in the node's config (docs/app-backends.md)",
  bad_meta: "the node refused a field of the request (named above): correct it and send again",
  not_found: "nothing there: check the name or address, and the tenant (--tenant)",
  payload_too_large: "the body is over the node's limit: send less, or raise the limit in the node's config",
  quota: "over the quota: wait and try again, or ask for a higher limit",
  overloaded: "the node is busy: try again shortly",
  not_ready: "the node is starting or not ready: try again shortly (its /readyz says why)",
  shutting_down: "the node is stopping: try again once it is back",
  backend_unavailable: "the app's backend is down or unreachable: start it, then try again",
  backend_timeout: "the app's backend did not answer in time: check that it is healthy",
  timeout: "the call ran past its deadline: allow more time (deadlineMs, --timeout) or check the node's load",
  client_closed: "the client was closed before the call ended",
};

/** The what-to-do line for a reason, or undefined when there is nothing to add to the message. */
export function hintFor(reason: string): string | undefined {
  return Object.hasOwn(HINTS, reason) ? HINTS[reason] : undefined;
}
