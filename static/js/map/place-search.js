// The search box over the list: places from our own data (and a geocoder if configured),
// GET /api/v1/places/?q=…, offered as a listbox (arrow keys, Enter, Escape, click); the
// chosen place is shown on the map (its extent, or a close view of a point).
const DEBOUNCE_MS = 200;
const POINT_ZOOM = 14;

export class PlaceSearch {
  constructor({ map, config, onPick }) {
    this.map = map;
    this.url = config.placesUrl;
    this.messages = config.messages;
    this.onPick = onPick;
    this.box = document.getElementById('place-search');
    this.input = document.getElementById('place-search-input');
    this.list = document.getElementById('place-search-results');
    this.status = document.getElementById('place-search-status');
    this.results = [];
    this.active = -1;
    this.timer = null;
    this.controller = null;
  }

  start() {
    if (!this.box || !this.url) {
      return;
    }
    this.box.hidden = false;
    this.input.addEventListener('input', () => {
      window.clearTimeout(this.timer);
      this.timer = window.setTimeout(() => this.lookUp(), DEBOUNCE_MS);
    });
    this.input.addEventListener('keydown', (event) => this.key(event));
    this.list.addEventListener('mousedown', (event) => event.preventDefault());
    this.list.addEventListener('click', (event) => {
      const option = event.target.closest('[role="option"]');
      if (option) {
        this.pick(Number(option.dataset.index));
      }
    });
    this.input.addEventListener('blur', () => this.close());
  }

  lookUp() {
    const text = this.input.value.trim();
    this.controller?.abort();
    if (text.length < 2 && !/^\d+$/.test(text)) {
      this.show([]);
      this.say('');
      return Promise.resolve();
    }
    this.controller = new AbortController();
    const query = new URLSearchParams({ q: text });
    return fetch(`${this.url}?${query}`, {
      headers: { Accept: 'application/json' }, signal: this.controller.signal,
    })
      .then((response) => (response.ok ? response.json() : Promise.reject(response)))
      .then((data) => {
        this.show(data.results);
        this.say(data.results.length ? '' : this.messages.placeSearchEmpty);
      })
      .catch((error) => {
        if (error?.name !== 'AbortError') {
          this.show([]);
          this.say(this.messages.placeSearchFailed);
        }
      });
  }

  say(text) {
    this.status.textContent = text;
    this.status.hidden = !text;
  }

  show(results) {
    this.results = results;
    this.active = -1;
    this.list.replaceChildren(...results.map((place, index) => {
      const option = document.createElement('li');
      option.className = 'place-search__option';
      option.id = `place-option-${index}`;
      option.setAttribute('role', 'option');
      option.setAttribute('aria-selected', 'false');
      option.dataset.index = String(index);
      option.dataset.kind = place.kind;
      option.append(document.createTextNode(place.name));
      const kind = document.createElement('span');
      kind.className = 'place-search__kind';
      kind.textContent = place.where ? `${place.kind_label} · ${place.where}` : place.kind_label;
      option.append(kind);
      return option;
    }));
    this.list.hidden = results.length === 0;
    this.input.setAttribute('aria-expanded', String(results.length > 0));
    this.list.dataset.loaded = String(Date.now());
  }

  close() {
    this.list.hidden = true;
    this.input.setAttribute('aria-expanded', 'false');
    this.input.removeAttribute('aria-activedescendant');
  }

  highlight(index) {
    const options = this.list.querySelectorAll('[role="option"]');
    if (!options.length) {
      return;
    }
    this.active = (index + options.length) % options.length;
    options.forEach((option, i) => option.setAttribute('aria-selected', String(i === this.active)));
    this.input.setAttribute('aria-activedescendant', options[this.active].id);
    options[this.active].scrollIntoView({ block: 'nearest' });
  }

  key(event) {
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault();
      if (this.list.hidden && this.results.length) {
        this.list.hidden = false;
      }
      this.highlight(this.active + (event.key === 'ArrowDown' ? 1 : -1));
    } else if (event.key === 'Enter') {
      event.preventDefault();
      if (this.results.length) {
        this.pick(this.active >= 0 ? this.active : 0);
      }
    } else if (event.key === 'Escape') {
      this.close();
    }
  }

  pick(index) {
    const place = this.results[index];
    if (!place) {
      return;
    }
    this.input.value = place.name;
    this.close();
    const [west, south, east, north] = place.bbox || [];
    if (place.bbox && (east - west > 0.0005 || north - south > 0.0005)) {
      this.map.fitBounds([[south, west], [north, east]], { padding: [24, 24], maxZoom: 16 });
    } else {
      this.map.setView([place.lat, place.lon], Math.max(this.map.getZoom(), POINT_ZOOM));
    }
    this.onPick?.(place);
  }
}
