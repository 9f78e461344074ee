// One geometry kept as GeoJSON (EPSG:4326) in a form field, drawn or changed on a small map
// with Leaflet-Geoman: the inquiry form's area of interest, the site editor's site. The field
// stays the form's value; the server checks and transforms it.
import { prepareMap } from './basemap.js';
import { createBoundaryLayer } from './boundaries.js';
import { showDrawMode } from './draw-mode.js';

const DEFAULT_STYLE = { color: '#c2185b', weight: 2.5, fillColor: '#c2185b', fillOpacity: 0.2 };

export class GeometryInput {
  // container: the map element; input: the field with the GeoJSON; tools: the toolbar of
  // button[data-draw] (a Geoman shape, "edit" or "clear"); hint, status: the lines around
  // the map; config: small_map_config (basemap, boundaries, tiles, bounds).
  // shapes: the Geoman shapes it holds ('Polygon', 'Marker'); enabledShapes(): those whose
  // tool is usable now (call updateTools() when that changes).
  // messages: { hints: { <shape or 'edit'>: text }, empty, unreadable }.
  // describe(layer): the status line for the drawn layer.
  // onLoad({ readable }): after the field's geometry was read; readable is false when the
  // field holds something the map cannot show, which is then left as it is.
  constructor({
    container, input, tools, hint, status, config, messages, describe,
    shapes = ['Polygon'], enabledShapes = () => shapes, style = {}, precision = 6,
    maxZoom = 18, fitMaxZoom = 14, fitPadding = 32, startZoom = 9, onLoad = () => {},
  }) {
    this.input = input;
    this.tools = tools;
    this.hint = hint;
    this.status = status;
    this.messages = messages;
    this.describeLayer = describe;
    this.shapes = shapes;
    this.enabledShapes = enabledShapes;
    this.style = { ...DEFAULT_STYLE, ...style };
    this.precision = precision;
    this.editing = false;
    this.mode = null;

    container.hidden = false;
    const map = L.map(container, { minZoom: 8, maxZoom, zoomSnap: 0.5 });
    this.map = map;
    prepareMap(map, config, { preferred: config.preferredBasemaps || [] });
    for (const entry of config.boundaries) {
      createBoundaryLayer(config.tiles.boundaries, entry).addTo(map);
    }
    map.pm.setLang(document.documentElement.lang === 'de' ? 'de' : 'en');
    map.pm.setGlobalOptions({
      pathOptions: this.style,
      templineStyle: { color: this.style.color },
      hintlineStyle: { color: this.style.color, dashArray: '4 4' },
      snappable: false,
      continueDrawing: false,
      finishOn: null,
      allowSelfIntersection: false,
    });
    this.group = L.featureGroup().addTo(map);

    const readable = this.load();
    const bounds = this.group.getBounds();
    if (bounds.isValid()) {
      map.fitBounds(bounds, { maxZoom: fitMaxZoom, padding: [fitPadding, fitPadding] });
    } else if (config.startBounds || config.bounds) {
      // Nothing drawn yet: the editor's own area (a partner's municipalities), else the region.
      map.fitBounds(config.startBounds || config.bounds);
    } else {
      map.setView([51.47, 7.2], startZoom);
    }
    onLoad({ readable });
    if (readable || !messages.unreadable) {
      this.describe();
    } else {
      this.status.textContent = messages.unreadable;
    }

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
    this.updateTools();
    container.dataset.ready = 'true';
  }

  // The geometry in the field (after a failed submission: the one drawn before). Only one
  // geometry of a shape the tools draw is shown: not a point where an area is wanted.
  load() {
    const text = this.input.value.trim();
    if (!text) {
      return true;
    }
    let layers;
    try {
      layers = L.geoJSON(JSON.parse(text), { style: this.style }).getLayers();
    } catch {
      return false;
    }
    if (layers.length !== 1 || !this.holds(layers[0])) {
      return false;
    }
    this.adopt(layers[0]);
    return true;
  }

  holds(layer) {
    return this.shapes.some(
      (shape) => layer instanceof (shape === 'Marker' ? L.Marker : L.Polygon),
    );
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
      } else if (this.group.getLayers().length) {
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
      map.pm.enableDraw(name, { pathOptions: this.style });
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
    showDrawMode(this, name, name && this.messages.hints[name]);
  }

  // One geometry: a new drawing replaces the old one.
  created(event) {
    this.group.clearLayers();
    event.layer.remove();
    this.adopt(event.shape === 'Marker'
      ? L.marker(event.layer.getLatLng())
      : L.polygon(event.layer.getLatLngs(), this.style));
    this.setMode(null);
    this.write();
  }

  write() {
    const [layer] = this.group.getLayers();
    this.input.value = layer ? JSON.stringify(layer.toGeoJSON(this.precision).geometry) : '';
    this.describe();
  }

  describe() {
    const [layer] = this.group.getLayers();
    this.status.textContent = layer ? this.describeLayer(layer) : this.messages.empty;
  }

  updateTools() {
    const enabled = this.enabledShapes();
    for (const shape of this.shapes) {
      const button = this.tools.querySelector(`button[data-draw="${shape}"]`);
      if (button) {
        button.disabled = !enabled.includes(shape);
      }
    }
  }
}

// The area of a polygon or multipolygon layer (m²): its outer rings, holes not subtracted.
export function polygonArea(layer) {
  let polygons = layer.getLatLngs();
  // Polygon: [outer, ...holes]; MultiPolygon: [[outer, ...holes], ...].
  if (!Array.isArray(polygons[0][0])) {
    polygons = [polygons];
  }
  return polygons.reduce((sum, rings) => sum + geodesicArea(rings[0]), 0);
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
