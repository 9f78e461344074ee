// The partner workspace: the map of the organisation's (filtered) inventory over the
// region's own boundaries (a base map only if one is configured), and the bulk selection:
// "select all on this page", "all filtered" and a confirmation before withdrawing.
import { readJsonScript } from '../map/config.js';
import { createSmallMap } from '../map/small-map.js';

const STATUS_COLOURS = {
  draft: '#78909c',
  submitted: '#ef6c00',
  published: '#2e7d32',
  reserved: '#1565c0',
  sold: '#424242',
  withdrawn: '#9e9e9e',
};

function popupContent(properties, editLabel) {
  // Built from text nodes: titles and ids come from partners' files.
  const box = document.createElement('div');
  const title = document.createElement('strong');
  title.textContent = properties.title;
  box.append(title);
  const meta = document.createElement('div');
  meta.textContent = [properties.statusLabel, properties.ref].filter(Boolean).join(' · ');
  box.append(meta);
  const link = document.createElement('a');
  link.href = properties.url;
  link.textContent = editLabel;
  box.append(link);
  return box;
}

function initMap() {
  const container = document.getElementById('inventory-map');
  if (!container) {
    return;
  }
  const config = readJsonScript(container.dataset.configId);
  const sites = readJsonScript(container.dataset.sitesId);
  const map = createSmallMap(container, config, { minZoom: 7 });
  const layer = L.geoJSON(sites, {
    style: (feature) => ({
      pane: 'sitesPane',
      color: '#111111',
      weight: 1.5,
      fillColor: STATUS_COLOURS[feature.properties.status] || '#546e7a',
      fillOpacity: 0.65,
    }),
    pointToLayer: (feature, latlng) => L.circleMarker(latlng, { radius: 7, pane: 'sitesPane' }),
    onEachFeature: (feature, siteLayer) => {
      siteLayer.bindPopup(popupContent(feature.properties, config.messages.edit));
    },
  }).addTo(map);
  const fit = () => {
    map.invalidateSize();
    if (layer.getLayers().length) {
      map.fitBounds(layer.getBounds(), { maxZoom: 15, padding: [24, 24] });
    } else if (config.bounds) {
      map.fitBounds(config.bounds);
    } else {
      map.setView([51.48, 7.2], 9);
    }
  };
  fit();
  const details = container.closest('details');
  if (details) {
    details.addEventListener('toggle', () => {
      if (details.open) {
        fit();
      }
    });
  }
  container.dataset.ready = 'true';
  container.dataset.features = String(layer.getLayers().length);
}

function initBulk() {
  const form = document.getElementById('bulk-form');
  if (!form) {
    return;
  }
  const rows = () => Array.from(document.querySelectorAll('input[type=checkbox][name=site][form=bulk-form]'));
  const pageBox = form.querySelector('[data-bulk-page]');
  const filteredBox = form.querySelector('#bulk-filtered');
  pageBox.addEventListener('change', () => {
    for (const box of rows()) {
      box.checked = pageBox.checked;
    }
  });
  filteredBox.addEventListener('change', () => {
    // "All filtered" includes this page: show it ticked, and leave the rows out of the POST.
    for (const box of [...rows(), pageBox]) {
      box.checked = filteredBox.checked;
      box.disabled = filteredBox.checked;
    }
  });
  // Ticking a whole page needs this script; without it the option stays hidden.
  pageBox.closest('label').hidden = false;
  form.addEventListener('submit', (event) => {
    if (event.submitter && event.submitter.value === 'withdraw'
        && !window.confirm(form.dataset.confirmWithdraw)) {
      event.preventDefault();
    }
  });
}

initMap();
initBulk();
