import { parseNodeUrl } from "@omnigate/sdk";
import { ConfigError } from "./error.js";

/**
 * The OAP URLs of `cluster.nodes`, each checked as a client would parse it (a client fails over
 * to them, so a URL it cannot dial is a config error at start, not a surprise on failover).
 */
export function clusterNodeUrls(setting: string): string[] {
  const urls = setting
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part.length > 0);
  for (const url of urls) {
    try {
      parseNodeUrl(url);
    } catch (err) {
      throw new ConfigError(`invalid cluster.nodes entry: ${(err as Error).message}`);
    }
  }
  if (new Set(urls).size !== urls.length) {
    throw new ConfigError(`cluster.nodes names a node twice: ${setting}`);
  }
  return urls;
}
