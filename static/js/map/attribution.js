// The map's credits in an info control: every source once (layers that share a source, e.g.
// "© GeoBasis-DE / BKG" of region, districts and municipalities, are credited once), open
// on wide screens and folded behind an "i" button on phones, where a five-line box would
// cover a third of the map.
const PHONE = window.matchMedia('(max-width: 40em)');

function textOf(html) {
  const probe = document.createElement('span');
  probe.innerHTML = html;
  return probe.textContent.replace(/\s+/g, ' ').trim();
}

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
    const seen = new Set();
    const parts = [];
    const sources = [this.options.prefix, ...Object.keys(this._attributions)
      .filter((key) => this._attributions[key])];
    for (const source of sources) {
      for (const part of String(source || '').split(/\s+\|\s+/)) {
        const key = textOf(part);
        if (key && !seen.has(key)) {
          seen.add(key);
          parts.push(part);
        }
      }
    }
    // The parts come from the server's config, escaped there (properties/map_config.py).
    this._text.innerHTML = parts.join(' · ');
  },
});

// Replaces Leaflet's credit line by the info control; call before adding layers.
export function installAttribution(map, prefix, label) {
  map.attributionControl.remove();
  map.attributionControl = new InfoAttribution({ prefix, label }).addTo(map);
  return map.attributionControl;
}
