// The base maps: "none" (the offline default: the region's own boundaries on a plain
// background) and whatever the operator configured (properties/basemaps.py) — official web
// maps, the aerial image, the parcel overlay from zoom 15 — in a Leaflet layer switcher.
// The choice is remembered across pages. A base map that cannot be loaded (offline, blocked)
// leaves the map working and says so discreetly.
import { installAttribution } from './attribution.js';
import { createPanes } from './panes.js';

const STORAGE_KEY = 'sitefinder.basemap';
const OVERLAY_STORAGE_KEY = 'sitefinder.basemap-overlays';

function stored(key) {
  try {
    return window.localStorage.getItem(key);
  } catch {
    return null;
  }
}

function store(key, value) {
  try {
    window.localStorage.setItem(key, value);
  } catch {
    // private mode: the choice lasts for this page only
  }
}

function createLayer(entry) {
  const options = {
    attribution: entry.attribution,
    maxNativeZoom: entry.maxNativeZoom,
    maxZoom: 20,
    minZoom: entry.minZoom || 0,
    pane: entry.overlay ? 'basemapOverlayPane' : 'tilePane',
  };
  if (entry.kind === 'wms') {
    return L.tileLayer.wms(entry.url, {
      ...options,
      layers: entry.wmsLayers,
      format: 'image/png',
      transparent: entry.overlay,
      version: '1.3.0',
      tileSize: 512,
      zoomOffset: -1,
    });
  }
  return L.tileLayer(entry.url, options);
}

// A one-line note in the map's corner: which base map is (not) shown.
const Notice = L.Control.extend({
  options: { position: 'bottomleft' },
  onAdd() {
    this.element = L.DomUtil.create('p', 'map-notice');
    this.element.setAttribute('role', 'status');
    return this.element;
  },
  show(text) {
    this.element.textContent = text || '';
    this.element.hidden = !text;
  },
});

// config: {layers, default, noneName, noneNotice, failedNotice}; `preferred` picks a base map
// (by key) over the default when it is offered, e.g. the aerial image in the site editor.
export function addBasemap(map, config, { preferred = [] } = {}) {
  const entries = (config && config.layers) || [];
  const notice = new Notice().addTo(map);
  const container = map.getContainer();
  if (!entries.length) {
    container.classList.add('map--plain');
    notice.show(config ? config.noneNotice : '');
    container.dataset.basemap = 'none';
    return null;
  }
  if (!map.getPane('basemapOverlayPane')) {
    map.createPane('basemapOverlayPane').style.zIndex = '240';
    map.getPane('basemapOverlayPane').style.pointerEvents = 'none';
  }
  const none = L.layerGroup();
  const bases = { none };
  const overlays = {};
  const baseNames = { [config.noneName]: none };
  const overlayNames = {};
  for (const entry of entries) {
    const layer = createLayer(entry);
    layer.basemapKey = entry.key;
    layer.on('tileerror', () => {
      container.dataset.basemapFailed = 'true';
      notice.show(config.failedNotice);
    });
    layer.on('tileload', () => {
      container.dataset.basemapLoaded = 'true';
    });
    if (entry.overlay) {
      overlays[entry.key] = layer;
      overlayNames[entry.name] = layer;
    } else {
      bases[entry.key] = layer;
      baseNames[entry.name] = layer;
    }
  }

  const choice = [...preferred, stored(STORAGE_KEY), config.default].find((key) => key && key in bases) || 'none';
  const showState = (key) => {
    container.dataset.basemap = key;
    container.classList.toggle('map--plain', key === 'none');
    notice.show(key === 'none' ? config.noneNotice : '');
  };
  bases[choice].addTo(map);
  showState(choice);
  const wantedOverlays = (stored(OVERLAY_STORAGE_KEY) || '').split(',');
  for (const [key, layer] of Object.entries(overlays)) {
    if (preferred.includes(key) || wantedOverlays.includes(key)) {
      layer.addTo(map);
    }
  }

  const control = L.control.layers(baseNames, overlayNames, { position: 'topright', collapsed: true });
  control.addTo(map);
  control.getContainer().classList.add('basemap-switcher');
  control.getContainer().querySelector('.leaflet-control-layers-toggle')
    ?.setAttribute('aria-label', config.switcherLabel || '');
  map.on('baselayerchange', ({ layer }) => {
    const key = layer.basemapKey || 'none';
    delete container.dataset.basemapFailed;
    showState(key);
    store(STORAGE_KEY, key);
  });
  const storeOverlays = () => {
    store(OVERLAY_STORAGE_KEY, Object.entries(overlays)
      .filter(([, layer]) => map.hasLayer(layer)).map(([key]) => key).join(','));
  };
  map.on('overlayadd overlayremove', storeOverlays);
  return control;
}

// What every map of the site starts with: the credits control, the panes and the base
// map switcher. config: small_map_config (attributionPrefix, basemap, messages).
export function prepareMap(map, config, options = {}) {
  const prefix = config.attributionPrefix
    ? `${config.attributionPrefix} | <a href="https://leafletjs.com">Leaflet</a>`
    : '<a href="https://leafletjs.com">Leaflet</a>';
  installAttribution(map, prefix, config.basemap?.creditsLabel);
  createPanes(map);
  return addBasemap(map, config.basemap, options);
}
