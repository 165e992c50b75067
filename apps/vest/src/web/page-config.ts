import type { PageConfig } from "../shared/protocol.js";

export async function loadPageConfig(): Promise<PageConfig> {
  const res = await fetch("/config.json", { cache: "no-store" });
  if (!res.ok) throw new Error(`/config.json: ${res.status}`);
  return (await res.json()) as PageConfig;
}
