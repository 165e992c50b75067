/** Largest serialized token accepted; checked before any parsing or HMAC work. */
export const MAX_TOKEN_BYTES = 4096;
/** Most caveats a token may carry; checked while parsing, before any HMAC work. */
export const MAX_CAVEATS = 32;
/** Clock skew tolerated on `expires` and `not-before`, in seconds. */
export const DEFAULT_SKEW_SECONDS = 60;
