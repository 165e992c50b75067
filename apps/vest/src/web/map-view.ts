import type { OapClient } from "@omnigate/sdk";
import maplibregl from "maplibre-gl";
import { PMTiles, Protocol } from "pmtiles";
import { BusyGate } from "./busy-gate.js";
import { LatencyStats } from "./latency-stats.js";
import { worldMapStyle } from "./map-style.js";
import { OapRangeSource, type StorageAddress } from "./oap-pmtiles-source.js";

/** Budget of one range read, retries for load included: MapLibre cancels what it no longer needs. */
const RANGE_BUDGET_MS = 30_000;

export interface MapView {
  map: maplibregl.Map;
  gate: BusyGate;
  /** Every range read of the archive over OAP (header, directories, tiles). */
  reads: LatencyStats;
}

/**
 * The map: MapLibre GL rendering vector tiles that the pmtiles reader takes out of the
 * archive with range reads over OAP. Nothing comes from anywhere but the node.
 */
export function createMapView(container: HTMLElement, storage: OapClient, archive: string): MapView {
  const gate = new BusyGate("map");
  const reads = new LatencyStats();
  const source = new OapRangeSource(
    {
      getBytes: (addr, options) =>
        gate.run(() => storage.storage.getBytes(addr, options), RANGE_BUDGET_MS, options.signal),
    },
    archive as StorageAddress,
    { onRead: (stat) => reads.add(stat.ms) },
  );
  const protocol = new Protocol();
  protocol.add(new PMTiles(source));
  maplibregl.addProtocol("pmtiles", protocol.tile);
  const map = new maplibregl.Map({
    container,
    style: worldMapStyle(`pmtiles://${source.getKey()}`),
    center: [12, 48],
    zoom: 2.2,
    maxZoom: 8,
    attributionControl: { compact: true },
    // Screenshots (and the tests' pixel checks) read the canvas after drawing.
    canvasContextAttributes: { preserveDrawingBuffer: true },
  });
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-right");
  return { map, gate, reads };
}
