// The investor's offer page: the offered sites on a map over the region's own boundaries
// (a base map only if one is configured), numbered as in the list; a click on a site
// jumps to its card.
import { readJsonScript } from './map/config.js';
import { createSmallMap } from './map/small-map.js';

function init() {
  const container = document.getElementById('offer-map');
  if (!container) {
    return;
  }
  const config = readJsonScript(container.dataset.configId);
  const sites = readJsonScript(container.dataset.sitesId);
  const map = createSmallMap(container, config, { minZoom: 8 });
  const layer = L.geoJSON(sites, {
    style: (feature) => ({
      pane: 'sitesPane', color: '#111111', weight: 2, fillColor: feature.properties.colour, fillOpacity: 0.6,
    }),
    pointToLayer: (feature, latlng) => L.circleMarker(latlng, { radius: 9 }),
    onEachFeature: (feature, siteLayer) => {
      siteLayer.bindTooltip(`${feature.properties.number}. ${feature.properties.title}`, { permanent: true, direction: 'top' });
      siteLayer.on('click', () => {
        window.location.hash = feature.properties.anchor;
      });
    },
  }).addTo(map);
  if (layer.getLayers().length) {
    map.fitBounds(layer.getBounds(), { maxZoom: 14, padding: [32, 32] });
  } else {
    map.setView([51.48, 7.2], 9);
  }
  container.dataset.ready = 'true';
}

init();
