import { formatAppProtoId, OapError } from "@omnigate/oap";
import type { IncomingEvent, IncomingRequest, ResponseWriter, Service } from "@omnigate/sdk/internal";

/** Routes each stream to the service registered for its app_proto_id. */
export class Router {
  private readonly services = new Map<number, Service>();
  private lastAppId = -1;
  private lastService: Service | undefined;

  register(service: Service): void {
    if (this.services.has(service.appProtoId)) {
      throw new Error(
        `app_proto_id ${formatAppProtoId(service.appProtoId)} is already served by ${service.name}`,
      );
    }
    this.services.set(service.appProtoId, service);
  }

  /** The name of the service routed for `appProtoId` (what capability ops are prefixed with). */
  serviceName(appProtoId: number): string | undefined {
    return this.services.get(appProtoId)?.name;
  }

  list(): Service[] {
    return [...this.services.values()].sort((a, b) => a.appProtoId - b.appProtoId);
  }

  dispatch(req: IncomingRequest, res: ResponseWriter): void | Promise<void> {
    // Consecutive requests mostly go to one app: the last lookup is kept (services are only added).
    const appProtoId = req.appProtoId;
    let service = appProtoId === this.lastAppId ? this.lastService : undefined;
    if (!service) {
      service = this.services.get(appProtoId);
      this.lastAppId = appProtoId;
      this.lastService = service;
    }
    if (!service) {
      throw new OapError(
        "unknown_app",
        `no service for app_proto_id ${formatAppProtoId(req.appProtoId)} on this node`,
      );
    }
    return service.handle(req, res);
  }

  /** An EVENT frame goes to its app's service if that service takes events (specs/oap-1.md §4.5). */
  event(event: IncomingEvent): void {
    const service = this.services.get(event.appProtoId);
    if (!service?.event) {
      throw new OapError(
        "unsupported",
        `app_proto_id ${formatAppProtoId(event.appProtoId)} takes no EVENT frames`,
      );
    }
    service.event(event);
  }
}
