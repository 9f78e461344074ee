// The inquiry form's map: the investor draws (or changes) one area of interest with
// Leaflet-Geoman; it is kept as GeoJSON (EPSG:4326) in the form's text field, which stays
// the way to give an area without JavaScript. The server checks and transforms it.
import { addBasemap } from './map/basemap.js';
import { createBoundaryLayer } from './map/boundaries.js';
import { readJsonScript } from './map/config.js';
import { createPanes } from './map/panes.js';

const SHAPE_STYLE = { color: '#c2185b', weight: 2.5, fillColor: '#c2185b', fillOpacity: 0.2 };

class AreaDrawer {
  constructor(container, config) {
    this.config = config;
    this.messages = config.messages;
    this.input = document.getElementById(config.inputId);
    this.inputBox = document.getElementById('inq-area-input');
    this.tools = document.querySelector('.inq-draw-tools');
    this.hint = document.getElementById('inq-draw-hint');
    this.status = document.getElementById('inq-draw-status');

    container.hidden = false;
    const map = L.map(container, { minZoom: 8, maxZoom: 18, zoomSnap: 0.5 });
    this.map = map;
    createPanes(map);
    addBasemap(map, config.basemap);
    for (const entry of config.boundaries) {
      createBoundaryLayer(config.tiles.boundaries, entry).addTo(map);
    }
    map.pm.setLang(document.documentElement.lang === 'de' ? 'de' : 'en');
    map.pm.setGlobalOptions({
      pathOptions: SHAPE_STYLE,
      templineStyle: { color: SHAPE_STYLE.color },
      hintlineStyle: { color: SHAPE_STYLE.color, dashArray: '4 4' },
      snappable: false,
      continueDrawing: false,
      allowSelfIntersection: false,
    });
    this.group = L.featureGroup().addTo(map);
    this.load();

    map.on('pm:create', (event) => this.created(event));
    map.on('pm:drawend', () => this.setMode(null));
    this.tools.hidden = false;
    this.tools.addEventListener('click', (event) => {
      const button = event.target.closest('button[data-draw]');
      if (button) {
        this.command(button.dataset.draw);
      }
    });
    document.addEventListener('keydown', (event) => {
      if (event.key === 'Escape' && map.pm.globalDrawModeEnabled()) {
        map.pm.disableDraw();
      }
    });
    container.dataset.ready = 'true';
  }

  // The area in the form: the one drawn before a failed submission, or from the search.
  load() {
    const text = this.input.value.trim();
    let geometry = null;
    if (text) {
      try {
        geometry = JSON.parse(text);
      } catch {
        geometry = null;
      }
    }
    if (geometry) {
      try {
        L.geoJSON(geometry, { style: SHAPE_STYLE }).eachLayer((layer) => this.adopt(layer));
      } catch {
        geometry = null;
      }
    }
    // The text field stays for what the map cannot show (WKT typed without JavaScript).
    this.inputBox.hidden = !(text && !geometry) && !this.inputHasError();
    const bounds = this.group.getBounds();
    if (bounds.isValid()) {
      this.map.fitBounds(bounds, { maxZoom: 14, padding: [32, 32] });
    } else if (this.config.bounds) {
      this.map.fitBounds(this.config.bounds);
    } else {
      this.map.setView([51.47, 7.2], 9);
    }
    if (text && !geometry) {
      this.status.textContent = this.messages.unreadable;
    } else {
      this.describe();
    }
  }

  inputHasError() {
    return this.input.getAttribute('aria-invalid') === 'true';
  }

  adopt(layer) {
    layer.addTo(this.group);
    layer.on('pm:edit pm:dragend pm:vertexremoved', () => this.write());
  }

  command(name) {
    const map = this.map;
    if (name === 'clear') {
      map.pm.disableDraw();
      this.stopEditing();
      this.group.clearLayers();
      this.write();
      return;
    }
    if (name === 'edit') {
      map.pm.disableDraw();
      if (this.editing) {
        this.stopEditing();
      } else if (this.group.getLayers().length) {
        this.editing = true;
        this.group.eachLayer((layer) => layer.pm.enable({ allowSelfIntersection: false }));
        this.setMode('edit');
      }
      return;
    }
    this.stopEditing();
    const active = map.pm.globalDrawModeEnabled();
    map.pm.disableDraw();
    if (!active) {
      map.pm.enableDraw('Polygon', { pathOptions: SHAPE_STYLE });
      this.setMode('Polygon');
    }
  }

  stopEditing() {
    if (this.editing) {
      this.group.eachLayer((layer) => layer.pm.disable());
      this.editing = false;
      this.write();
      this.setMode(null);
    }
  }

  setMode(name) {
    for (const button of this.tools.querySelectorAll('button[data-draw]')) {
      if (button.dataset.draw !== 'clear') {
        button.setAttribute('aria-pressed', String(button.dataset.draw === name));
      }
    }
    this.map.getContainer().classList.toggle('map--drawing', Boolean(name));
    const hints = { Polygon: this.messages.drawHint, edit: this.messages.editHint };
    this.hint.textContent = hints[name] || '';
    this.hint.hidden = !name;
  }

  // One area: a new drawing replaces the old one.
  created(event) {
    this.group.clearLayers();
    event.layer.remove();
    this.adopt(L.polygon(event.layer.getLatLngs(), SHAPE_STYLE));
    this.setMode(null);
    this.write();
  }

  write() {
    const layers = this.group.getLayers();
    this.input.value = layers.length ? JSON.stringify(layers[0].toGeoJSON(6).geometry) : '';
    this.describe();
  }

  describe() {
    const layers = this.group.getLayers();
    if (!layers.length) {
      this.status.textContent = this.messages.nothing;
      return;
    }
    let rings = layers[0].getLatLngs();
    // Polygon: [outer, ...holes]; MultiPolygon: [[outer, ...], ...]. Outer rings only.
    if (!Array.isArray(rings[0][0])) {
      rings = [rings];
    }
    const area = rings.reduce((sum, polygon) => sum + geodesicArea(polygon[0]), 0);
    this.status.textContent = this.messages.drawn.replace(
      '%(km2)s',
      new Intl.NumberFormat(document.documentElement.lang || 'de', {
        maximumFractionDigits: 1,
      }).format(area / 1e6),
    );
  }
}

// The area of a ring on the sphere (m²), good enough to show what was drawn.
function geodesicArea(latlngs) {
  const radius = 6378137;
  const rad = Math.PI / 180;
  let area = 0;
  for (let i = 0; i < latlngs.length; i += 1) {
    const p1 = latlngs[i];
    const p2 = latlngs[(i + 1) % latlngs.length];
    area += (p2.lng - p1.lng) * rad * (2 + Math.sin(p1.lat * rad) + Math.sin(p2.lat * rad));
  }
  return Math.abs((area * radius * radius) / 2);
}

const container = document.getElementById('inquiry-map');
if (container && window.L && L.PM) {
  new AreaDrawer(container, readJsonScript(container.dataset.configId));
}
