import type { HelloReply } from "@omnigate/oap";
import type { CallScope } from "./call-scope.js";
import type { Connection } from "./connection.js";
import { type DialSettings, dial } from "./dial.js";
import type { Endpoint, Endpoints } from "./endpoints.js";
import { OapConnectionError } from "./errors.js";
import type { Listeners } from "./events.js";

/** What the link dials with: the dial settings of every node, and the nodes. */
export interface LinkSettings extends Omit<DialSettings, "hooks" | "open" | "target"> {
  endpoints: Endpoints;
  /** Adds the nodes a cluster's HELLO lists to `endpoints` (ConnectOptions.discoverNodes). */
  discoverNodes: boolean;
}

/**
 * The client's tie to the node: the live connection, or one reconnect (TLS handshake and
 * HELLO again) shared by every caller that needs it while it runs. With several nodes (a
 * cluster, specs/oap-1.md §8.2) a reconnect tries each once, starting after the node it lost.
 */
export class NodeLink {
  private current: Connection | undefined;
  private connecting: Promise<Connection> | undefined;
  private lastHello: HelloReply | undefined;
  private closedWith: OapConnectionError | undefined;

  constructor(
    private readonly settings: LinkSettings,
    private readonly listeners: Listeners,
  ) {}

  /** HELLO reply of the current (or last) connection. */
  get hello(): HelloReply | undefined {
    return this.lastHello;
  }

  /** The live connection, if there is one new calls may use (not closed, not draining). */
  get ready(): Connection | undefined {
    const current = this.current;
    return current?.isOpen && !current.isDraining ? current : undefined;
  }

  /**
   * The live connection, or the shared reconnect raced against the caller's scope. A
   * connection the node is draining (503 shutting_down) is never handed out again.
   */
  connection(scope: CallScope): Promise<Connection> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    const ready = this.ready;
    if (ready) return Promise.resolve(ready);
    this.connecting ??= this.reconnect();
    const connecting = this.connecting;
    return scope.wait(() => connecting);
  }

  /** Ends the link for good: the connection closes and later calls fail with `error`. */
  async close(error: OapConnectionError): Promise<void> {
    if (this.closedWith) return;
    this.closedWith = error;
    const connection = this.current;
    this.current = undefined;
    const pending = this.connecting;
    await Promise.all([
      connection?.end(error),
      // A dial still running adopts nothing once closed (see reconnect); wait for it to settle.
      pending?.catch(() => {}),
    ]);
  }

  private reconnect(): Promise<Connection> {
    const attempt = this.dialAny()
      .then(({ connection, endpoint }) => {
        if (this.closedWith) {
          connection.destroy(this.closedWith);
          throw this.closedWith;
        }
        if (!connection.isOpen) throw connection.closeError;
        this.current = connection;
        this.lastHello = connection.hello;
        const { endpoints } = this.settings;
        endpoints.connected(endpoint);
        if (this.settings.discoverNodes) endpoints.learn(connection.hello.nodes);
        this.listeners.emit("connect", connection.hello);
        return connection;
      })
      .finally(() => {
        if (this.connecting === attempt) this.connecting = undefined;
      });
    // Callers race this with their own deadline; a failure after they left is not unhandled.
    attempt.catch(() => {});
    return attempt;
  }

  /**
   * Dials each node once, in the endpoints' order, until one answers its HELLO. With one node
   * its error is returned as it is; with several, one error that names every failure.
   */
  private async dialAny(): Promise<{ connection: Connection; endpoint: Endpoint }> {
    const failures: Array<{ endpoint: Endpoint; error: OapConnectionError }> = [];
    for (const endpoint of this.settings.endpoints.inDialOrder()) {
      if (this.closedWith) throw this.closedWith;
      try {
        return { connection: await this.dialOne(endpoint), endpoint };
      } catch (error) {
        failures.push({ endpoint, error: error as OapConnectionError });
      }
    }
    throw combinedFailure(failures);
  }

  private dialOne(endpoint: Endpoint): Promise<Connection> {
    // Set once this link adopts the connection: its hooks then act only while it is current.
    const held: { connection?: Connection } = {};
    const leave = (error: OapConnectionError) => {
      if (held.connection === undefined || this.current !== held.connection) return;
      this.current = undefined;
      this.settings.endpoints.lost(endpoint);
      this.listeners.emit("disconnect", error);
    };
    return dial({
      ...this.settings,
      open: endpoint.open,
      target: endpoint.target,
      hooks: {
        onEvent: (event) => this.listeners.emit("event", event),
        onClose: leave,
        // Its open streams finish there (it closes itself after the last); new calls dial anew.
        onDraining: leave,
      },
    }).then((connection) => {
      held.connection = connection;
      return connection;
    });
  }
}

/**
 * The error of a reconnect that reached no node. It is retryable when any node's failure was
 * (another try may find that node back), and it keeps the last failure's reason and cause.
 */
function combinedFailure(failures: Array<{ endpoint: Endpoint; error: OapConnectionError }>): Error {
  const last = failures[failures.length - 1];
  if (!last) return new OapConnectionError("no node to dial", { reason: "connect_failed" });
  if (failures.length === 1) return last.error;
  const each = failures.map(({ endpoint, error }) => `${endpoint.target}: ${error.message}`).join("; ");
  const waits = failures.map(({ error }) => error.retryAfterMs).filter((ms) => ms !== undefined);
  return new OapConnectionError(`no node of ${failures.length} answered (${each})`, {
    reason: last.error.reason,
    code: last.error.code,
    retryable: failures.some(({ error }) => error.retryable),
    retryAfterMs: waits.length > 0 ? Math.min(...waits) : undefined,
    cause: last.error,
  });
}
