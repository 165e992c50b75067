/**
 * Where the s3 engine keeps things in its bucket. Namespaces are `public` or `t-<hex>`, so the
 * top-level `staging/` and `quarantine/` prefixes never collide with one.
 */
export function objectKey(namespace: string, digest: string): string {
  return `${namespace}/${digest}`;
}

/** The outboard sits beside its object, under a name no digest can have. */
export function outboardKey(namespace: string, digest: string): string {
  return `${objectKey(namespace, digest)}.outboard`;
}

export const STAGING_PREFIX = "staging/";

/** A multipart upload in progress: its digest is known only once the last byte is in. */
export function stagingKey(id: string): string {
  return `${STAGING_PREFIX}${id}`;
}

export function quarantineKey(namespace: string, digest: string, at: Date): string {
  return `quarantine/${namespace}/${digest}.${at.toISOString()}`;
}

const DIGEST_KEY = /^[0-9a-f]{64}$/;

/** The digest a listed key names within `namespace/`, or undefined for an outboard or stray key. */
export function digestOfKey(namespace: string, key: string): string | undefined {
  const rest = key.slice(namespace.length + 1);
  return DIGEST_KEY.test(rest) ? rest : undefined;
}
