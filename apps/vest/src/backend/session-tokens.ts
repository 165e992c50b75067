import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

/**
 * The backend's proof of a sign-in, handed to the page and sent back on later calls:
 * `<name>.<expires unix s>.<HMAC-SHA256 base64url>`. Dev mode signs anyone in by name, so
 * this only stops one page from acting as another user by changing a field.
 */
export class SessionTokens {
  constructor(private readonly secret: Uint8Array = randomBytes(32)) {}

  issue(user: string, expiresAt: number): string {
    return `${user}.${expiresAt}.${this.mac(user, expiresAt)}`;
  }

  /** The user the token was issued to; undefined when it is forged, malformed or expired. */
  verify(token: string, nowSeconds: number): string | undefined {
    const parts = token.split(".");
    if (parts.length !== 3) return undefined;
    const [user, expires, mac] = parts as [string, string, string];
    const expiresAt = Number(expires);
    if (!Number.isSafeInteger(expiresAt) || expiresAt <= nowSeconds) return undefined;
    const expected = Buffer.from(this.mac(user, expiresAt));
    const given = Buffer.from(mac);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
    return user;
  }

  private mac(user: string, expiresAt: number): string {
    return createHmac("sha256", this.secret)
      .update(`vest-session\0${user}\0${expiresAt}`)
      .digest("base64url");
  }
}
