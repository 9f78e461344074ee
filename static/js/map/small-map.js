// A small map of the region for one task (site detail, offer link, partner workspace): the
// credit line, the panes, the base maps (basemap.js: "none" offline, the configured ones in
// a switcher), and the region's boundaries.
import { prepareMap } from './basemap.js';
import { createBoundaryLayer } from './boundaries.js';

export function createSmallMap(container, config, options) {
  const map = L.map(container, { scrollWheelZoom: false, maxZoom: 18, ...options });
  prepareMap(map, config);
  for (const entry of config.boundaries) {
    createBoundaryLayer(config.tiles.boundaries, entry).addTo(map);
  }
  return map;
}
