// The search page: region map, boundaries, reference layers with their switcher, sites,
// and the search (filters, area, list) that keeps them in step through the URL.
import { prepareMap } from './basemap.js';
import { createBoundaryLayer, createMunicipalityLabels } from './boundaries.js';
import { readJsonScript } from './config.js';
import { bindLayerSwitcher, createReferenceLayer } from './layers.js';
import { Search } from './search.js';
import { createSitesLayer } from './sites.js';

const FALLBACK_VIEW = { center: [51.48, 7.2], zoom: 10 };

function init() {
  const container = document.getElementById('map');
  const config = readJsonScript(container.dataset.configId);

  // Quarter zoom steps let the region fill the map at any window size.
  const map = L.map(container, { minZoom: 8, maxZoom: 18, zoomSnap: 0.25, zoomDelta: 0.5 });
  prepareMap(map, config);

  if (config.bounds) {
    const bounds = L.latLngBounds(config.bounds);
    map.fitBounds(bounds, { padding: [12, 12] });
    map.setMaxBounds(bounds.pad(0.5));
  } else {
    map.setView(FALLBACK_VIEW.center, FALLBACK_VIEW.zoom);
  }

  const layersBySlug = new Map();
  for (const entry of config.boundaries) {
    let layer = createBoundaryLayer(config.tiles.boundaries, entry);
    if (entry.slug === 'municipalities' && config.municipalityLabels.length) {
      layer = L.layerGroup([layer, createMunicipalityLabels(map, config.municipalityLabels)]);
    }
    layersBySlug.set(entry.slug, layer);
  }
  for (const entry of config.layers) {
    if (entry.featureCount > 0) {
      layersBySlug.set(entry.slug, createReferenceLayer(config.tiles.layers, entry));
    }
  }
  bindLayerSwitcher(document.getElementById('layer-switcher'), map, layersBySlug);

  const sites = createSitesLayer(map, config);
  sites.on('load', () => {
    container.dataset.sitesLoaded = 'true';
  });
  // The search sets the sites' filters from the URL before their first tiles load.
  new Search({ map, sites, config }).start();
  sites.addTo(map);
  container.dataset.ready = 'true';
}

init();
