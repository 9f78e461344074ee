// The small map on a site's detail page: the site's geometry over the boundaries, with
// the nearest feature of every reference layer and the distance to it.
import { readJsonScript } from './config.js';
import { createReferenceLayer } from './layers.js';
import { createNearestLayer } from './nearest.js';
import { createSmallMap } from './small-map.js';

function init() {
  const container = document.getElementById('site-map');
  const config = readJsonScript(container.dataset.configId);
  const feature = readJsonScript(container.dataset.geometryId);

  const map = createSmallMap(container, config, { minZoom: 8, zoomSnap: 0.5 });
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
  const nearest = createNearestLayer(map, config.nearest || []).addTo(map);
  // The site in the middle, every nearest feature in view: the bounds are widened by each
  // feature's mirror image around the site. Never closer than the railway and neighbouring
  // places need; room at the sides for the distance labels and below for the attribution.
  const bounds = site.getBounds();
  const centre = bounds.getCenter();
  if (nearest.getLayers().length) {
    const around = nearest.getBounds();
    for (const corner of [around.getSouthWest(), around.getNorthEast()]) {
      bounds.extend(corner);
      bounds.extend([2 * centre.lat - corner.lat, 2 * centre.lng - corner.lng]);
    }
  }
  map.fitBounds(bounds, { maxZoom: 13, paddingTopLeft: [64, 32], paddingBottomRight: [64, 64] });
  container.dataset.ready = 'true';
}

init();
