import { formatAppProtoId, OapError } from "@omnigate/oap";
import { describe, expect, it } from "vitest";
import type { IncomingRequest, ResponseWriter, Service } from "../../sdk/src/internal.js";
import { Router } from "../src/gateway/router.js";
import { NodeMetrics } from "../src/metrics/node-metrics.js";

function service(appProtoId: number, seen: number[]): Service {
  return { appProtoId, name: `svc-${appProtoId}`, handle: () => void seen.push(appProtoId) };
}

const request = (appProtoId: number) => ({ appProtoId }) as IncomingRequest;
const response = {} as ResponseWriter;

describe("Router", () => {
  it("routes each request to its app's service, whatever app came before", () => {
    const seen: number[] = [];
    const router = new Router();
    router.register(service(0x0101, seen));
    router.register(service(0x0201, seen));
    for (const app of [0x0101, 0x0101, 0x0201, 0x0101, 0x0201, 0x0201])
      router.dispatch(request(app), response);
    expect(seen).toEqual([0x0101, 0x0101, 0x0201, 0x0101, 0x0201, 0x0201]);
  });

  it("refuses an app with no service as unknown_app, and routes it once a service registers", () => {
    const seen: number[] = [];
    const router = new Router();
    router.register(service(0x0101, seen));
    router.dispatch(request(0x0101), response);
    const refusal = (() => {
      try {
        router.dispatch(request(0x0f00), response);
      } catch (err) {
        return err;
      }
    })();
    expect(refusal).toBeInstanceOf(OapError);
    expect((refusal as OapError).reason).toBe("unknown_app");
    router.register(service(0x0f00, seen));
    router.dispatch(request(0x0f00), response);
    expect(seen).toEqual([0x0101, 0x0f00]);
  });
});

describe("NodeMetrics.app", () => {
  it("counts an app under `unknown` until it registers, and under its own label after", () => {
    const metrics = new NodeMetrics();
    metrics.registerApp(0x0101);
    expect(metrics.app(0x0101).label).toBe(formatAppProtoId(0x0101));
    expect(metrics.app(0x0f00).label).toBe("unknown");
    metrics.registerApp(0x0f00);
    expect(metrics.app(0x0f00).label).toBe(formatAppProtoId(0x0f00));
    expect(metrics.app(0x0101).label).toBe(formatAppProtoId(0x0101));
  });
});
