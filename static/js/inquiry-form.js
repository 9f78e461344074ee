// The inquiry form's map: the investor draws (or changes) one area of interest; it is kept
// as GeoJSON in the form's text field, which stays the way to give an area without
// JavaScript (and shows while it holds what the map cannot, or has an error).
import { readJsonScript } from './map/config.js';
import { GeometryInput, polygonArea } from './map/geometry-input.js';

const container = document.getElementById('inquiry-map');
if (container && window.L && L.PM) {
  const config = readJsonScript(container.dataset.configId);
  const { messages } = config;
  const input = document.getElementById(config.inputId);
  const inputBox = document.getElementById('inq-area-input');
  const km2 = new Intl.NumberFormat(document.documentElement.lang || 'de', {
    maximumFractionDigits: 1,
  });
  new GeometryInput({
    container,
    input,
    tools: document.querySelector('.inq-draw-tools'),
    hint: document.getElementById('inq-draw-hint'),
    status: document.getElementById('inq-draw-status'),
    config,
    shapes: ['Polygon'],
    precision: 6,
    maxZoom: 18,
    fitMaxZoom: 14,
    fitPadding: 32,
    startZoom: 9,
    messages: {
      hints: { Polygon: messages.drawHint, edit: messages.editHint },
      empty: messages.nothing,
      unreadable: messages.unreadable,
    },
    describe: (layer) => messages.drawn.replace('%(km2)s', km2.format(polygonArea(layer) / 1e6)),
    onLoad: ({ readable }) => {
      inputBox.hidden = readable && input.getAttribute('aria-invalid') !== 'true';
    },
  });
}
