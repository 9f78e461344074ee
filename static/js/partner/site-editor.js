// The site editor's map: the site's geometry drawn or changed with Leaflet-Geoman (a
// polygon for plots, a marker or a polygon for premises), kept as GeoJSON (EPSG:4326) in
// the form's hidden field; the server transforms it to EPSG:25832.
import { addBasemap } from '../map/basemap.js';
import { createBoundaryLayer } from '../map/boundaries.js';
import { readJsonScript } from '../map/config.js';
import { createPanes } from '../map/panes.js';

const SHAPE_STYLE = { color: '#c2185b', weight: 2.5, fillColor: '#c2185b', fillOpacity: 0.25 };

class SiteEditor {
  constructor(container, config) {
    this.config = config;
    this.messages = config.messages;
    this.input = document.getElementById(config.inputId);
    this.kind = document.getElementById(config.kindId);
    this.tools = document.querySelector('.pw-draw-tools');
    this.hint = document.getElementById('draw-hint');
    this.status = document.getElementById('draw-status');

    const map = L.map(container, { minZoom: 8, maxZoom: 19, zoomSnap: 0.5 });
    this.map = map;
    createPanes(map);
    addBasemap(map, config.basemap);
    for (const entry of config.boundaries) {
      createBoundaryLayer(config.tiles.boundaries, entry).addTo(map);
    }
    map.pm.setLang(document.documentElement.lang === 'de' ? 'de' : 'en');
    map.pm.setGlobalOptions({
      pathOptions: SHAPE_STYLE, templineStyle: { color: SHAPE_STYLE.color },
      hintlineStyle: { color: SHAPE_STYLE.color, dashArray: '4 4' },
      snappable: false, continueDrawing: false, finishOn: null,
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
    this.kind.addEventListener('change', () => this.updateTools());
    document.addEventListener('keydown', (event) => {
      if (event.key === 'Escape' && map.pm.globalDrawModeEnabled()) {
        map.pm.disableDraw();
      }
    });
    this.updateTools();
    this.describe();
    container.dataset.ready = 'true';
  }

  // The geometry of the form (after a failed save: the one the user drew).
  load() {
    let geometry = null;
    try {
      geometry = this.input.value ? JSON.parse(this.input.value) : null;
    } catch {
      geometry = null;
    }
    if (geometry) {
      L.geoJSON(geometry, {
        style: SHAPE_STYLE,
        pointToLayer: (point, latlng) => L.marker(latlng),
      }).eachLayer((layer) => this.adopt(layer));
    }
    const bounds = this.group.getBounds();
    if (bounds.isValid()) {
      this.map.fitBounds(bounds, { maxZoom: 17, padding: [48, 48] });
    } else if (this.config.bounds) {
      this.map.fitBounds(this.config.bounds);
    } else {
      this.map.setView([51.47, 7.2], 10);
    }
  }

  adopt(layer) {
    layer.addTo(this.group);
    layer.on('pm:edit pm:dragend pm:markerdragend pm:vertexremoved', () => this.write());
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
      } else {
        this.editing = true;
        this.group.eachLayer((layer) => layer.pm.enable({ allowSelfIntersection: false }));
        this.setMode('edit');
      }
      return;
    }
    this.stopEditing();
    const active = map.pm.globalDrawModeEnabled() && this.mode === name;
    map.pm.disableDraw();
    if (!active) {
      map.pm.enableDraw(name, { pathOptions: SHAPE_STYLE });
      this.setMode(name);
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
    this.mode = name;
    for (const button of this.tools.querySelectorAll('button[data-draw]')) {
      if (button.dataset.draw !== 'clear') {
        button.setAttribute('aria-pressed', String(button.dataset.draw === name));
      }
    }
    this.map.getContainer().classList.toggle('map--drawing', Boolean(name));
    const hints = {
      Polygon: this.messages.drawPolygonHint,
      Marker: this.messages.markerHint,
      edit: this.messages.editHint,
    };
    this.hint.textContent = hints[name] || '';
    this.hint.hidden = !name;
  }

  // One site, one geometry: a new drawing replaces the old one.
  created(event) {
    this.group.clearLayers();
    event.layer.remove();
    const layer = event.shape === 'Marker'
      ? L.marker(event.layer.getLatLng())
      : L.polygon(event.layer.getLatLngs(), SHAPE_STYLE);
    this.adopt(layer);
    this.setMode(null);
    this.write();
  }

  write() {
    const layers = this.group.getLayers();
    this.input.value = layers.length ? JSON.stringify(layers[0].toGeoJSON(7).geometry) : '';
    this.describe();
  }

  describe() {
    const layers = this.group.getLayers();
    if (!layers.length) {
      this.status.textContent = this.messages.noGeometry;
      return;
    }
    const layer = layers[0];
    if (layer instanceof L.Marker) {
      this.status.textContent = this.messages.point;
      return;
    }
    // The outer ring (of the first part, for a multipolygon).
    let ring = layer.getLatLngs();
    while (Array.isArray(ring[0])) {
      [ring] = ring;
    }
    const area = geodesicArea(ring);
    this.status.textContent = this.messages.polygon.replace(
      '%(area)s',
      new Intl.NumberFormat(document.documentElement.lang || 'de', { maximumFractionDigits: 0 }).format(area),
    );
  }

  // Plots are polygons: the marker tool is only for premises.
  updateTools() {
    const marker = this.tools.querySelector('button[data-draw="Marker"]');
    marker.disabled = this.kind.value === 'plot';
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

const container = document.getElementById('site-editor-map');
if (container) {
  new SiteEditor(container, readJsonScript(container.dataset.configId));
}
