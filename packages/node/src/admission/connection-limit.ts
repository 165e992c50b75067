import { OapError } from "@omnigate/oap";

/**
 * The first admission stage: how many client connections may be open at once, in all and
 * per IP address. It is asked on accept, before the TLS handshake, so refusing costs no
 * cryptography; a refused connection is closed at once (no frame can be sent before TLS),
 * and reported as 503 `overloaded` through the session handler's `rejected` hook.
 */
export class ConnectionLimit {
  private open = 0;
  private readonly perAddress = new Map<string, number>();
  refused = 0;

  constructor(
    private readonly maxConnections: number,
    /** 0 = no per-address limit. */
    private readonly maxPerAddress: number,
    private readonly retryAfterMs: number,
  ) {}

  get connections(): number {
    return this.open;
  }

  /** Counts the connection in, or returns (counting nothing) the error it is refused with. */
  tryOpen(address: string): OapError | undefined {
    if (this.open >= this.maxConnections) {
      return this.refuse(`the node has ${this.maxConnections} connections open, its limit`);
    }
    if (this.maxPerAddress > 0) {
      const held = this.perAddress.get(address) ?? 0;
      if (held >= this.maxPerAddress) {
        return this.refuse(`${this.maxPerAddress} connections are already open from this address`);
      }
      this.perAddress.set(address, held + 1);
    }
    this.open++;
    return undefined;
  }

  /** A connection tryOpen admitted has closed. */
  closed(address: string): void {
    this.open--;
    if (this.maxPerAddress === 0) return;
    const held = (this.perAddress.get(address) ?? 1) - 1;
    if (held > 0) this.perAddress.set(address, held);
    else this.perAddress.delete(address);
  }

  private refuse(why: string): OapError {
    this.refused++;
    return new OapError("overloaded", why, { retryAfterMs: this.retryAfterMs });
  }
}
