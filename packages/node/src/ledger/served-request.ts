/**
 * Which finished streams are a tenant's usage: requests served (not refused, code < 400) to an
 * app other than the control plane (HELLO) and node-to-node traffic (DHT). The settlement
 * ledger and the privacy dashboard count the same requests, so they share this one rule.
 */
import { AppProtoId } from "@omnigate/oap";
import type { StreamEndInfo } from "@omnigate/sdk/internal";

/**
 * Whether requests to `appProtoId` can count as usage at all: not the control plane (HELLO)
 * and not node-to-node traffic. Two comparisons, not a Set: this runs for every request.
 */
export function isUsageApp(appProtoId: number): boolean {
  return appProtoId !== AppProtoId.CONTROL && appProtoId !== AppProtoId.DHT;
}

/** Whether a finished stream counts as one request served. */
export function isServedRequest(info: StreamEndInfo): boolean {
  return !info.refused && info.code < 400 && isUsageApp(info.appProtoId);
}
