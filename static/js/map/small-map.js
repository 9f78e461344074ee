// A small map of the region for one task (site detail, offer link, partner workspace): the
// credit line, the panes, the base map if one is configured, and the region's boundaries.
import { addBasemap } from './basemap.js';
import { createBoundaryLayer } from './boundaries.js';
import { createPanes } from './panes.js';

export function createSmallMap(container, config, options) {
  const map = L.map(container, { scrollWheelZoom: false, maxZoom: 18, ...options });
  map.attributionControl.setPrefix(
    `${config.attributionPrefix} | <a href="https://leafletjs.com">Leaflet</a>`,
  );
  createPanes(map);
  addBasemap(map, config.basemap);
  for (const entry of config.boundaries) {
    createBoundaryLayer(config.tiles.boundaries, entry).addTo(map);
  }
  return map;
}
