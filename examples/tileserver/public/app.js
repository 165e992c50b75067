// The map: Leaflet (served by the tileserver from npm) showing tiles that the tileserver
// streams from Omnigate storage. Zoom 0-3 is what the loader generates.
const map = L.map("map", { minZoom: 0, maxZoom: 3 }).setView([0, 0], 1);
L.tileLayer("/tiles/{z}/{x}/{y}.png", {
  minZoom: 0,
  maxZoom: 3,
  noWrap: true,
  // Only the world's tiles exist: no requests left or right of it.
  bounds: [
    [-85.0511, -180],
    [85.0511, 180],
  ],
  attribution: "tiles rendered locally, served through Omnigate",
}).addTo(map);

async function refreshStats() {
  const stats = await (await fetch("/stats.json")).json();
  document.getElementById("stats").textContent =
    `${stats.fetches} tiles through OAP, first byte p50 ${stats.first_byte_ms.p50} ms, p95 ${stats.first_byte_ms.p95} ms`;
}
setInterval(() => refreshStats().catch(() => {}), 2000);
