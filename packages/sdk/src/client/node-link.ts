import type { HelloReply } from "@omnigate/oap";
import type { CallScope } from "./call-scope.js";
import type { Connection } from "./connection.js";
import { type DialSettings, dial } from "./dial.js";
import type { OapConnectionError } from "./errors.js";
import type { Listeners } from "./events.js";

/**
 * The client's tie to the node: the live connection, or one reconnect (TLS handshake and
 * HELLO again) shared by every caller that needs it while it runs.
 */
export class NodeLink {
  private current: Connection | undefined;
  private connecting: Promise<Connection> | undefined;
  private lastHello: HelloReply | undefined;
  private closedWith: OapConnectionError | undefined;

  constructor(
    private readonly settings: Omit<DialSettings, "hooks">,
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
    let adopted: Connection | undefined;
    const attempt = dial({
      ...this.settings,
      hooks: {
        onEvent: (event) => this.listeners.emit("event", event),
        onClose: (error) => {
          if (adopted === undefined || this.current !== adopted) return;
          this.current = undefined;
          this.listeners.emit("disconnect", error);
        },
        onDraining: (error) => {
          // Its open streams finish there (it closes itself after the last); new calls dial anew.
          if (adopted === undefined || this.current !== adopted) return;
          this.current = undefined;
          this.listeners.emit("disconnect", error);
        },
      },
    })
      .then((connection) => {
        if (this.closedWith) {
          connection.destroy(this.closedWith);
          throw this.closedWith;
        }
        if (!connection.isOpen) throw connection.closeError;
        adopted = connection;
        this.current = connection;
        this.lastHello = connection.hello;
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
}
