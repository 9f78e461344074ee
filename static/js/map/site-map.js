// The maps on a site's detail page: the site plan (the site's geometry framed close up, over
// the boundaries, with the nearest feature of every reference layer and the distance to it;
// a button shows the surroundings) and a small overview of the region.
import { createBoundaryLayer } from './boundaries.js';
import { readJsonScript } from './config.js';
import { createReferenceLayer } from './layers.js';
import { createNearestLayer } from './nearest.js';
import { createPanes } from './panes.js';
import { createSmallMap } from './small-map.js';

// A small map of the region beside the site plan: where in the Ruhr area the site lies.
function addOverview(config, centre) {
  const element = document.getElementById('site-overview');
  if (!element) {
    return;
  }
  const overview = L.map(element, {
    zoomControl: false, attributionControl: false, dragging: false, scrollWheelZoom: false,
    doubleClickZoom: false, boxZoom: false, keyboard: false, touchZoom: false, zoomSnap: 0.25,
  });
  createPanes(overview);
  for (const entry of config.boundaries) {
    createBoundaryLayer(config.tiles.boundaries, entry).addTo(overview);
  }
  L.circleMarker(centre, {
    pane: 'sitesPane', radius: 7, color: '#ffffff', weight: 2, fillColor: config.siteColour, fillOpacity: 1,
  }).addTo(overview);
  if (config.bounds) {
    overview.fitBounds(config.bounds);
  } else {
    overview.setView(centre, 9);
  }
  element.dataset.ready = 'true';
}

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
  // The site plan: the site itself framed close up. "Surroundings" shows the site in the
  // middle with every nearest feature in view (the bounds widened by each feature's mirror
  // image around the site), with room at the sides for the distance labels.
  const plan = site.getBounds();
  const around = L.latLngBounds(plan.getSouthWest(), plan.getNorthEast());
  const centre = plan.getCenter();
  if (nearest.getLayers().length) {
    const features = nearest.getBounds();
    for (const corner of [features.getSouthWest(), features.getNorthEast()]) {
      around.extend(corner);
      around.extend([2 * centre.lat - corner.lat, 2 * centre.lng - corner.lng]);
    }
  }
  const showPlan = () => map.fitBounds(plan, { maxZoom: 17, padding: [40, 40] });
  const showAround = () => map.fitBounds(around, {
    maxZoom: 13, paddingTopLeft: [64, 32], paddingBottomRight: [64, 64],
  });
  showPlan();
  const switcher = document.getElementById('site-map-frame');
  if (switcher) {
    switcher.hidden = false;
    switcher.addEventListener('click', (event) => {
      const button = event.target.closest('button[data-frame]');
      if (!button) {
        return;
      }
      for (const other of switcher.querySelectorAll('button[data-frame]')) {
        other.setAttribute('aria-pressed', String(other === button));
      }
      (button.dataset.frame === 'plan' ? showPlan : showAround)();
      container.dataset.frame = button.dataset.frame;
    });
  }
  container.dataset.frame = 'plan';
  addOverview(config, centre);
  container.dataset.ready = 'true';
}

init();
