import type { StorageEngine } from "./engine.js";

/**
 * The namespace rule: every tenant has its own namespace (the header's tenant_id, which the
 * capability check guarantees), and there is one shared namespace, `public`, that objects are
 * published to with PUT meta `"public": true`. GET and HAS look in the caller's namespace
 * first, then in `public`; nothing else is visible across tenants.
 */
export const PUBLIC_NAMESPACE = "public";

export function tenantNamespace(tenantId: bigint): string {
  return `t-${tenantId.toString(16).padStart(32, "0")}`;
}

export interface LocatedObject {
  namespace: string;
  size: number;
}

/** Where a tenant sees the object under `digest`: its own namespace, else the public one. */
export async function locate(
  engine: StorageEngine,
  tenantId: bigint,
  digest: string,
): Promise<LocatedObject | undefined> {
  for (const namespace of [tenantNamespace(tenantId), PUBLIC_NAMESPACE]) {
    const size = await engine.size(namespace, digest);
    if (size !== undefined) return { namespace, size };
  }
  return undefined;
}
