/**
 * A user's long-term chat keys: an X25519 identity key (X3DH), an Ed25519 key that signs the
 * bundle, and a signed prekey plus the one it replaced, so sessions started against a bundle
 * fetched just before a rotation still open.
 */
import { ed25519 } from "@noble/curves/ed25519.js";
import { type BundleKeys, decodeBundle, isValidUserName, type PublicBundle, signBundle } from "./bundle.js";
import { toBase64Url } from "./bytes.js";
import { type DhKeyPair, dhKeyPairFromSecret, generateDhKeyPair } from "./dh.js";
import { BundleError, StateError } from "./errors.js";
import { type IdentityKeys, safetyNumber } from "./safety-number.js";
import { stateBytes, stateCount, stateObject, stateString } from "./state-fields.js";

const SECRET_KEY_BYTES = 32;

export interface SignedPrekeyState {
  id: number;
  secret: string;
}

/** JSON-safe; holds private keys, so store it only where the user's other secrets live. */
export interface ChatIdentityState {
  v: 1;
  user: string;
  identityDhSecret: string;
  identitySignSecret: string;
  signedPrekey: SignedPrekeyState;
  previousSignedPrekey?: SignedPrekeyState;
}

interface SignedPrekey {
  readonly id: number;
  readonly keyPair: DhKeyPair;
}

/** What the session layer needs from an identity; reached through {@link identityKeyring}, not the public API. */
export interface IdentityKeyring {
  readonly publicIdentity: IdentityKeys;
  readonly identityDh: DhKeyPair;
  /** The current or the previous signed prekey with this id. */
  signedPrekey(id: number): DhKeyPair | undefined;
}

const keyrings = new WeakMap<ChatIdentity, IdentityKeyring>();

export function identityKeyring(identity: ChatIdentity): IdentityKeyring {
  const keyring = keyrings.get(identity);
  if (keyring === undefined) throw new TypeError("not a ChatIdentity");
  return keyring;
}

export class ChatIdentity {
  readonly user: string;
  readonly #identityDh: DhKeyPair;
  readonly #signSecret: Uint8Array;
  readonly #signPublic: Uint8Array;
  #signedPrekey: SignedPrekey;
  #previousSignedPrekey: SignedPrekey | undefined;
  #bundle: PublicBundle | undefined;

  private constructor(
    user: string,
    identityDh: DhKeyPair,
    signSecret: Uint8Array,
    signedPrekey: SignedPrekey,
    previousSignedPrekey: SignedPrekey | undefined,
  ) {
    this.user = user;
    this.#identityDh = identityDh;
    this.#signSecret = signSecret;
    this.#signPublic = ed25519.getPublicKey(signSecret);
    this.#signedPrekey = signedPrekey;
    this.#previousSignedPrekey = previousSignedPrekey;
    const publicIdentity: IdentityKeys = {
      user,
      identityDh: identityDh.publicKey,
      identitySign: this.#signPublic,
    };
    keyrings.set(this, {
      publicIdentity,
      identityDh,
      signedPrekey: (id) => {
        if (id === this.#signedPrekey.id) return this.#signedPrekey.keyPair;
        if (id === this.#previousSignedPrekey?.id) return this.#previousSignedPrekey.keyPair;
        return undefined;
      },
    });
  }

  static create(user: string): ChatIdentity {
    if (!isValidUserName(user))
      throw new BundleError("invalid_user", "user name must be 1 to 255 bytes of UTF-8");
    const signSecret = ed25519.keygen().secretKey;
    return new ChatIdentity(
      user,
      generateDhKeyPair(),
      signSecret,
      { id: 1, keyPair: generateDhKeyPair() },
      undefined,
    );
  }

  /** Restores a saved identity; throws StateError if the state is malformed. */
  static fromJSON(state: ChatIdentityState): ChatIdentity {
    const what = "identity state";
    const fields = stateObject(state, what);
    if (fields.v !== 1)
      throw new StateError("invalid_state", `${what} has unsupported version ${String(fields.v)}`);
    const user = stateString(fields, "user", what);
    if (!isValidUserName(user))
      throw new StateError("invalid_state", `${what}.user is not a valid user name`);
    const previous = fields.previousSignedPrekey;
    return new ChatIdentity(
      user,
      dhKeyPairFromSecret(stateBytes(fields, "identityDhSecret", SECRET_KEY_BYTES, what)),
      stateBytes(fields, "identitySignSecret", SECRET_KEY_BYTES, what),
      readSignedPrekey(fields.signedPrekey, `${what}.signedPrekey`),
      previous === undefined ? undefined : readSignedPrekey(previous, `${what}.previousSignedPrekey`),
    );
  }

  toJSON(): ChatIdentityState {
    const state: ChatIdentityState = {
      v: 1,
      user: this.user,
      identityDhSecret: toBase64Url(this.#identityDh.secretKey),
      identitySignSecret: toBase64Url(this.#signSecret),
      signedPrekey: writeSignedPrekey(this.#signedPrekey),
    };
    if (this.#previousSignedPrekey !== undefined) {
      state.previousSignedPrekey = writeSignedPrekey(this.#previousSignedPrekey);
    }
    return state;
  }

  /** The signed public bundle to publish; changes only on {@link rotateSignedPrekey}. */
  bundle(): PublicBundle {
    this.#bundle ??= signBundle(this.#bundleKeys(), this.#signSecret);
    return this.#bundle;
  }

  /**
   * Replaces the signed prekey; the old one is still accepted for sessions that were started
   * against it, until the next rotation drops it. Publish the new {@link bundle} afterwards.
   */
  rotateSignedPrekey(): void {
    this.#previousSignedPrekey = this.#signedPrekey;
    const id = this.#signedPrekey.id === 0xffffffff ? 1 : this.#signedPrekey.id + 1;
    this.#signedPrekey = { id, keyPair: generateDhKeyPair() };
    this.#bundle = undefined;
  }

  /** Same string on both sides for the same pair of identities; see safety-number.ts. */
  safetyNumber(peer: PublicBundle): string {
    const peerKeys = decodeBundle(peer);
    return safetyNumber(identityKeyring(this).publicIdentity, peerKeys);
  }

  #bundleKeys(): BundleKeys {
    return {
      user: this.user,
      identityDh: this.#identityDh.publicKey,
      identitySign: this.#signPublic,
      signedPrekey: this.#signedPrekey.keyPair.publicKey,
      signedPrekeyId: this.#signedPrekey.id,
    };
  }
}

function readSignedPrekey(value: unknown, what: string): SignedPrekey {
  const fields = stateObject(value, what);
  return {
    id: stateCount(fields, "id", what, 0xffffffff),
    keyPair: dhKeyPairFromSecret(stateBytes(fields, "secret", SECRET_KEY_BYTES, what)),
  };
}

function writeSignedPrekey(prekey: SignedPrekey): SignedPrekeyState {
  return { id: prekey.id, secret: toBase64Url(prekey.keyPair.secretKey) };
}
