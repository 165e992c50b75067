/** The node's TOML config for the scenario: limits, the routed backend app, and every tenant's quota. */
import { quotaOf, type Tenant, type TenantClass } from "./classes.js";
import { BACKEND_APP } from "./kinds.js";

/**
 * The node's config: the first class's buckets as each app's rule, every other class's as
 * `[[quotas.tenants]]` overrides, the backend app routed to `backend`, and the node ceiling.
 */
export function nodeConfig(
  tenants: Tenant[],
  classes: TenantClass[],
  backend: { url: string; caFile: string; maxInflight: number },
  nodeMaxInflight: number,
): string {
  const base = classes[0] as TenantClass;
  const lines = [
    "[limits]",
    `node_max_inflight = ${nodeMaxInflight}`,
    "",
    "[[apps]]",
    `id = "0x${BACKEND_APP.toString(16)}"`,
    `name = "echo-backend"`,
    `backend = ${JSON.stringify(backend.url)}`,
    `ca_file = ${JSON.stringify(backend.caFile)}`,
    `max_inflight = ${backend.maxInflight}`,
    "timeout_ms = 5000",
    "pool_size = 4",
    "",
  ];
  for (const [app, terms] of quotaOf(base)) {
    lines.push(
      `[quotas.apps."0x${app.toString(16).padStart(4, "0")}"]`,
      `rate = ${terms.rate}`,
      `burst = ${terms.burst}`,
      "",
    );
  }
  for (const t of tenants) {
    if (t.cls === base) continue;
    for (const [app, terms] of t.quota) {
      lines.push(
        "[[quotas.tenants]]",
        `tenant = "0x${t.id.toString(16)}"`,
        `app = "0x${app.toString(16).padStart(4, "0")}"`,
        `rate = ${terms.rate}`,
        `burst = ${terms.burst}`,
      );
    }
  }
  return `${lines.join("\n")}\n`;
}
