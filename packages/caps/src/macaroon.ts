/** A first-party caveat is a predicate the verifier evaluates; third-party ones carry a vid. */
export interface Caveat {
  /** The caveat's condition bytes (UTF-8 text for first-party caveats). */
  id: Uint8Array;
  /** Verification id: present only on third-party caveats, which Omnigate refuses. */
  vid?: Uint8Array;
  /** Where a third-party caveat is discharged; unused for first-party caveats. */
  location?: string;
}

/** A macaroon as it travels: identifier, caveats in order, and the HMAC chain's last link. */
export interface Macaroon {
  /** Location hint: not signed, and ignored by the verifier. */
  location?: string;
  /** Encoded TokenIdentifier: root key id, token id, epoch. */
  identifier: Uint8Array;
  /** Caveats in the order they were added; each extends the HMAC chain. */
  caveats: Caveat[];
  /** 32 bytes. */
  signature: Uint8Array;
}
