// The small map on a site's detail page: the site's geometry over the boundaries.
import { addBasemap } from './basemap.js';
import { createBoundaryLayer } from './boundaries.js';
import { readJsonScript } from './config.js';
import { createReferenceLayer } from './layers.js';
import { createPanes } from './panes.js';

function init() {
  const container = document.getElementById('site-map');
  const config = readJsonScript(container.dataset.configId);
  const feature = readJsonScript(container.dataset.geometryId);

  const map = L.map(container, {
    scrollWheelZoom: false, minZoom: 8, maxZoom: 18, zoomSnap: 0.5,
  });
  map.attributionControl.setPrefix(
    `${config.attributionPrefix} | <a href="https://leafletjs.com">Leaflet</a>`,
  );
  createPanes(map);
  addBasemap(map, config.basemap);
  for (const entry of config.boundaries) {
    createBoundaryLayer(config.tiles.boundaries, entry).addTo(map);
  }
  for (const entry of config.layers) {
    createReferenceLayer(config.tiles.layers, entry).addTo(map);
  }

  const style = {
    pane: 'sitesPane',
    color: '#111111',
    weight: 2,
    fillColor: config.siteColour,
    fillOpacity: 0.6,
  };
  const site = L.geoJSON(feature, {
    style,
    pointToLayer: (point, latlng) => L.circleMarker(latlng, { ...style, radius: 9 }),
  }).addTo(map);
  // Zoomed out far enough to show the railway and neighbouring places around the site.
  map.fitBounds(site.getBounds(), { maxZoom: 13, padding: [48, 48] });
  container.dataset.ready = 'true';
}

init();
