// The search area: a polygon or a circle drawn with Leaflet-Geoman, kept in the URL as
// area=<GeoJSON geometry> or near=lon,lat&radius_m=<metres>.
import { showDrawMode } from './draw-mode.js';

const AREA_STYLE = {
  color: '#0b3c49', weight: 2.5, dashArray: '6 4', fillColor: '#0b3c49', fillOpacity: 0.06,
};

export class AreaDrawing {
  // onChange({area, near, radius_m}) is called when the user draws or clears an area.
  constructor(map, { onChange, messages }) {
    this.map = map;
    this.onChange = onChange;
    this.messages = messages;
    this.group = L.featureGroup().addTo(map);
    map.pm.setLang(document.documentElement.lang === 'de' ? 'de' : 'en');
    map.pm.setGlobalOptions({
      pathOptions: AREA_STYLE, templineStyle: { color: '#0b3c49' }, hintlineStyle: { color: '#0b3c49', dashArray: '4 4' },
      snappable: false, continueDrawing: false, finishOn: null,
    });
    map.on('pm:create', (event) => this.created(event));
    map.on('pm:drawend', () => this.setMode(null));
    this.tools = document.querySelector('.search-area__tools');
    this.hint = document.getElementById('search-area-hint');
    this.status = document.getElementById('search-area-status');
    this.tools.hidden = false;
    this.tools.addEventListener('click', (event) => {
      const button = event.target.closest('button[data-draw]');
      if (button) {
        this.command(button.dataset.draw);
      }
    });
    // Escape ends drawing without an area.
    document.addEventListener('keydown', (event) => {
      if (event.key === 'Escape' && map.pm.globalDrawModeEnabled()) {
        map.pm.disableDraw();
      }
    });
  }

  command(name) {
    if (name === 'clear') {
      this.map.pm.disableDraw();
      this.show({});
      this.onChange({ area: '', near: '', radius_m: '' });
      return;
    }
    const active = this.map.pm.globalDrawModeEnabled() && this.mode === name;
    this.map.pm.disableDraw();
    if (!active) {
      this.map.pm.enableDraw(name, { pathOptions: AREA_STYLE });
      this.setMode(name);
    }
  }

  setMode(name) {
    this.mode = name;
    const hints = { Circle: this.messages.drawCircleHint, Polygon: this.messages.drawPolygonHint };
    showDrawMode(this, name, hints[name]);
  }

  created(event) {
    const layer = event.layer;
    // The drawn layer is only a preview: the URL holds the area, and show() draws it.
    layer.remove();
    let values;
    if (event.shape === 'Circle') {
      const centre = layer.getLatLng();
      values = {
        area: '',
        near: `${centre.lng.toFixed(6)},${centre.lat.toFixed(6)}`,
        radius_m: String(Math.max(1, Math.round(layer.getRadius()))),
      };
    } else {
      values = { area: JSON.stringify(layer.toGeoJSON(6).geometry), near: '', radius_m: '' };
    }
    this.setMode(null);
    this.show(values);
    this.onChange(values);
  }

  // Draws the area of the given parameters (from the URL), or none.
  show({ area, near, radius_m: radius }) {
    this.group.clearLayers();
    let text = this.messages.areaNone;
    if (area) {
      try {
        L.geoJSON(JSON.parse(area), { style: AREA_STYLE, interactive: false }).addTo(this.group);
        text = this.messages.areaPolygon;
      } catch {
        // Not GeoJSON (WKT from an API user): the server still applies it.
        text = this.messages.areaPolygon;
      }
    } else if (near && radius) {
      const [lon, lat] = near.split(',').map(Number);
      if (Number.isFinite(lon) && Number.isFinite(lat)) {
        L.circle([lat, lon], { ...AREA_STYLE, radius: Number(radius), interactive: false }).addTo(this.group);
      }
      text = this.messages.areaCircle.replace('%(km)s', new Intl.NumberFormat(
        document.documentElement.lang || 'de', { maximumFractionDigits: 1 },
      ).format(Number(radius) / 1000));
    }
    this.status.textContent = text;
    this.tools.querySelector('button[data-draw="clear"]').disabled = !(area || (near && radius));
  }

  bounds() {
    const bounds = this.group.getBounds();
    return bounds.isValid() ? bounds : null;
  }
}
