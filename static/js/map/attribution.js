// The map's credits in an info control: every source once (layers that share a source, e.g.
// "© GeoBasis-DE / BKG" of region, districts and municipalities, are credited once: each
// credit is split at "|" and ";" and every part shown once), open
// on wide screens and folded behind an "i" button on phones, where a five-line box would
// cover a third of the map.
const PHONE = window.matchMedia('(max-width: 40em)');

// A credit line's parts: split at "|" and ";" between (never inside) its links.
function partsOf(html) {
  const root = document.createElement('span');
  // The credits come from the server's config, escaped there (properties/map_config.py).
  root.innerHTML = html;
  const parts = [];
  let current = [];
  const flush = () => {
    if (current.length) {
      const part = document.createElement('span');
      part.append(...current);
      parts.push(part);
      current = [];
    }
  };
  for (const node of [...root.childNodes]) {
    if (node.nodeType !== Node.TEXT_NODE) {
      current.push(node);
      continue;
    }
    node.textContent.split(/\s*(?:\||;)\s+|\s+\|\s*/).forEach((piece, index) => {
      if (index > 0) {
        flush();
      }
      if (piece.trim()) {
        current.push(document.createTextNode(piece));
      }
    });
  }
  flush();
  return parts;
}

const normalised = (node) => node.textContent.replace(/\s+/g, ' ').trim();

const InfoAttribution = L.Control.Attribution.extend({
  onAdd(map) {
    const container = L.Control.Attribution.prototype.onAdd.call(this, map);
    container.classList.add('map-credits');
    this._button = L.DomUtil.create('button', 'map-credits__toggle', container);
    this._button.type = 'button';
    this._button.textContent = 'i';
    this._button.setAttribute('aria-label', this.options.label || 'Credits');
    this._text = L.DomUtil.create('span', 'map-credits__text', container);
    this._text.id = `map-credits-${L.Util.stamp(this)}`;
    this._button.setAttribute('aria-controls', this._text.id);
    L.DomEvent.disableClickPropagation(container);
    L.DomEvent.on(this._button, 'click', () => this.setOpen(!this._open));
    this.setOpen(!PHONE.matches);
    this._update();
    return container;
  },

  setOpen(open) {
    this._open = open;
    this._container.classList.toggle('map-credits--open', open);
    this._button.setAttribute('aria-expanded', String(open));
  },

  _update() {
    if (!this._map || !this._text) {
      return;
    }
    const sources = [this.options.prefix, ...Object.keys(this._attributions)
      .filter((key) => this._attributions[key])];
    const parts = sources.flatMap((source) => partsOf(String(source || '')));
    const texts = parts.map(normalised);
    // Each credit once: a part said already, or contained in a longer one, is left out.
    const kept = parts.filter((part, index) => {
      const text = texts[index];
      return text
        && texts.indexOf(text) === index
        && !texts.some((other) => other !== text && other.includes(text));
    });
    const nodes = [];
    kept.forEach((part, index) => {
      if (index > 0) {
        nodes.push(document.createTextNode(' · '));
      }
      nodes.push(part);
    });
    this._text.replaceChildren(...nodes);
  },
});

// Replaces Leaflet's credit line by the info control; call before adding layers.
export function installAttribution(map, prefix, label) {
  map.attributionControl.remove();
  map.attributionControl = new InfoAttribution({ prefix, label }).addTo(map);
  return map.attributionControl;
}
