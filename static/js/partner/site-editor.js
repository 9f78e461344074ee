// The site editor's map: the site's geometry drawn or changed (a polygon for plots, a marker
// or a polygon for premises), kept as GeoJSON in the form's hidden field; the server
// transforms it to EPSG:25832.
import { readJsonScript } from '../map/config.js';
import { formatNumber } from '../map/format.js';
import { GeometryInput, polygonArea } from '../map/geometry-input.js';

const container = document.getElementById('site-editor-map');
if (container) {
  const config = readJsonScript(container.dataset.configId);
  const { messages } = config;
  const kind = document.getElementById(config.kindId);
  const editor = new GeometryInput({
    container,
    input: document.getElementById(config.inputId),
    tools: document.querySelector('.pw-draw-tools'),
    hint: document.getElementById('draw-hint'),
    status: document.getElementById('draw-status'),
    config,
    shapes: ['Polygon', 'Marker'],
    // Plots are polygons: the marker tool is only for premises.
    enabledShapes: () => (kind.value === 'plot' ? ['Polygon'] : ['Polygon', 'Marker']),
    style: { fillOpacity: 0.25 },
    precision: 7,
    maxZoom: 19,
    fitMaxZoom: 17,
    fitPadding: 48,
    startZoom: 10,
    messages: {
      hints: {
        Polygon: messages.drawPolygonHint,
        Marker: messages.markerHint,
        edit: messages.editHint,
      },
      empty: messages.noGeometry,
    },
    describe: (layer) => (layer instanceof L.Marker
      ? messages.point
      : messages.polygon.replace('%(area)s', formatNumber(polygonArea(layer)))),
  });
  kind.addEventListener('change', () => editor.updateTools());
}
