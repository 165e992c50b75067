import { OapRequestError } from "./errors.js";

/** Environment variable holding the default capability (base64url), e.g. the one a dev node prints. */
export const CAP_ENV = "RON_CAP";

/** Returns a fresh capability when the node says the current one expired or was revoked. */
export type CapProvider = () => Promise<Uint8Array | string>;

/** Refusals a fresh capability can cure; a wrong tenant or a forbidden app cannot be. */
const REFRESHABLE = new Set(["cap_expired", "cap_revoked", "unauthenticated"]);

/** A capability as given: bytes, or base64url/base64 text (what `RON_CAP` and `ronctl cap mint` print). */
export function toCapBytes(cap: Uint8Array | string): Uint8Array {
  if (typeof cap !== "string") return cap;
  const text = cap.trim();
  if (!/^[A-Za-z0-9_\-+/]+=*$/.test(text)) {
    throw new TypeError("a capability string must be base64url (what `ronctl cap mint` prints)");
  }
  return base64Bytes(text);
}

/** Decodes base64 or base64url (padding optional) with `atob`, which Node and browsers both have. */
function base64Bytes(text: string): Uint8Array {
  const plain = text.replace(/=+$/, "").replace(/-/g, "+").replace(/_/g, "/");
  if (plain.length % 4 === 1)
    throw new TypeError("a capability string is base64url with a stray last character");
  const binary = atob(plain.padEnd(plain.length + ((4 - (plain.length % 4)) % 4), "="));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** Environment variables as the client reads them: process.env in Node, none in a browser. */
export type Environment = Readonly<Record<string, string | undefined>>;

/** The capability from options, else `$RON_CAP`, else none. */
export function defaultCap(cap: Uint8Array | string | undefined, env: Environment): Uint8Array | undefined {
  if (cap !== undefined) return toCapBytes(cap);
  const fromEnv = env[CAP_ENV];
  return fromEnv ? toCapBytes(fromEnv) : undefined;
}

export function isRefreshableCapRefusal(error: unknown): boolean {
  return error instanceof OapRequestError && error.code === 401 && REFRESHABLE.has(error.reason);
}

/** One refresh at a time: calls refused together wait for the same new capability. */
export class CapRefresher {
  private pending: Promise<Uint8Array> | undefined;

  constructor(private readonly provider: CapProvider) {}

  refresh(): Promise<Uint8Array> {
    this.pending ??= this.provider()
      .then(toCapBytes)
      .finally(() => {
        this.pending = undefined;
      });
    return this.pending;
  }
}
