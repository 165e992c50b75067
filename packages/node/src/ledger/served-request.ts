/**
 * Which finished streams are a tenant's usage: requests served (not refused, code < 400) to an
 * app other than the control plane (HELLO) and node-to-node traffic (DHT). The settlement
 * ledger and the privacy dashboard count the same requests, so they share this one rule.
 */
import { AppProtoId } from "@omnigate/oap";
import type { StreamEndInfo } from "@omnigate/sdk/internal";

/** Apps that are not a tenant's usage: the control plane (HELLO) and node-to-node traffic. */
const UNCOUNTED_APPS: ReadonlySet<number> = new Set([AppProtoId.CONTROL, AppProtoId.DHT]);

/** Whether requests to `appProtoId` can count as usage at all. */
export function isUsageApp(appProtoId: number): boolean {
  return !UNCOUNTED_APPS.has(appProtoId);
}

/** Whether a finished stream counts as one request served. */
export function isServedRequest(info: StreamEndInfo): boolean {
  return !info.refused && info.code < 400 && isUsageApp(info.appProtoId);
}
