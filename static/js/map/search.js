// The search: form, list and map in step, with the whole state in the URL. A user's change
// pushes a history entry; the back button (popstate) restores form, area, list and map.
import { AreaSearch } from './area-search.js';
import { AreaDrawing } from './draw.js';
import { PlaceSearch } from './place-search.js';
import { ResultList } from './results.js';
import {
  filterParams, formatMapView, formToParams, paramsToForm, parseMapView,
} from './search-state.js';
import { SearchLinks } from './search-links.js';
import { Shortlist } from './shortlist.js';

export class Search {
  constructor({ map, sites, config }) {
    this.map = map;
    this.sites = sites;
    this.config = config;
    this.form = document.getElementById('search-form');
    this.results = new ResultList(config);
    this.list = this.results.list;
    this.shortlist = new Shortlist(config.shortlistUrl, config.messages);
    this.links = new SearchLinks(config);
    this.params = new URLSearchParams(window.location.search);
    this.drawing = new AreaDrawing(map, {
      messages: config.messages,
      onChange: (values) => {
        for (const [name, value] of Object.entries(values)) {
          this.form.elements[name].value = value;
        }
        this.changed();
      },
    });
    this.places = new PlaceSearch({
      map,
      config,
      onPick: (place) => {
        const id = place.kind === 'site' ? place.url.match(/(\d+)\/?$/)?.[1] : null;
        if (id) {
          this.select(id);
        }
      },
    });
    this.area = new AreaSearch({
      map,
      messages: config.messages,
      onChange: (bbox) => {
        this.form.elements.bbox.value = bbox;
        this.changed();
      },
    });
  }

  start() {
    this.applyToMap(this.params, {
      fitArea: !this.params.has('map'), filtersValid: this.config.filtersValid,
    });
    this.bindForm();
    this.bindList();
    this.bindMap();
    this.shortlist.start(this.list);
    this.places.start();
    this.area.start();
    this.area.update(this.params);
    this.links.update(this.params);
    window.addEventListener('popstate', () => this.restore());
    // The server rendered the first page from the same URL; a stale page (the browser's
    // back-forward cache) is refreshed by popstate/pageshow instead.
    window.addEventListener('pageshow', (event) => {
      if (event.persisted) {
        this.restore();
      }
    });
    this.form.dataset.ready = 'true';
  }

  // --- state ----------------------------------------------------------------------------

  // The state of the controls, plus the page and the selected site kept from `extra`.
  stateFromForm(extra = {}) {
    const params = formToParams(this.form);
    for (const [name, value] of Object.entries(extra)) {
      if (value !== null && value !== undefined && value !== '') {
        params.set(name, value);
      }
    }
    return params;
  }

  push(params) {
    this.params = params;
    const query = params.toString();
    window.history.pushState(null, '', query ? `?${query}` : window.location.pathname);
    this.links.update(params);
  }

  // A filter changed: first page, nothing selected, a new history entry.
  changed() {
    const params = this.stateFromForm();
    if (params.toString() === this.params.toString()) {
      return;
    }
    this.push(params);
    this.sites.select(null);
    this.refresh();
  }

  refresh() {
    // The tiles take the filters only once the server accepted them (no 400 tiles).
    const filters = filterParams(this.params).toString();
    return this.results.load(this.params).then((shown) => {
      if (shown) {
        this.sites.setFilters(filters);
        this.shortlist.decorate(this.list);
        this.links.showCount(this.results.lastCount);
        this.area.update(this.params);
      }
      this.list.dataset.loaded = String(Date.now());
    });
  }

  restore() {
    this.params = new URLSearchParams(window.location.search);
    paramsToForm(this.form, this.params);
    this.applyToMap(this.params, { fitArea: false });
    this.links.update(this.params);
    this.refresh();
  }

  applyToMap(params, { fitArea, filtersValid = false }) {
    this.drawing.show({
      area: params.get('area'), near: params.get('near'), radius_m: params.get('radius_m'),
    });
    if (filtersValid) {
      this.sites.setFilters(filterParams(params).toString());
    }
    this.sites.select(params.get('selected'));
    const view = parseMapView(params.get('map'));
    if (view) {
      this.movingProgrammatically = true;
      this.map.setView([view.lat, view.lon], view.zoom, { animate: false });
      this.movingProgrammatically = false;
    } else if (fitArea && this.drawing.bounds()) {
      this.map.fitBounds(this.drawing.bounds(), { padding: [24, 24], maxZoom: 14 });
    }
  }

  // --- the form -------------------------------------------------------------------------

  bindForm() {
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.changed();
    });
    // Choices apply at once; typed numbers when the field is left or Enter is pressed.
    this.form.addEventListener('change', () => this.changed());
    // The sort select sits in the list's header (form="search-form").
    document.getElementById('filter-sort').addEventListener('change', () => {
      this.push(this.stateFromForm({ selected: this.params.get('selected') }));
      this.refresh();
    });
    document.getElementById('search-reset').addEventListener('click', (event) => {
      event.preventDefault();
      const view = this.params.get('map');
      paramsToForm(this.form, new URLSearchParams(view ? { map: view } : {}));
      this.drawing.show({});
      this.changed();
    });
    const placesCount = document.getElementById('places-count');
    this.form.addEventListener('change', () => {
      const count = this.form.querySelectorAll('.places input:checked').length;
      placesCount.textContent = count ? `(${count})` : '';
    });
  }

  // --- the list -------------------------------------------------------------------------

  bindList() {
    const idOf = (event) => event.target.closest?.('.result')?.dataset.siteId;
    this.list.addEventListener('mouseover', (event) => this.sites.highlight(idOf(event) ?? null));
    this.list.addEventListener('mouseleave', () => this.sites.highlight(null));
    this.list.addEventListener('focusin', (event) => this.sites.highlight(idOf(event) ?? null));
    this.list.addEventListener('focusout', () => this.sites.highlight(null));
    // A click beside the link selects the site; the link itself opens its page.
    this.list.addEventListener('click', (event) => {
      if (event.target.closest('a, button')) {
        return;
      }
      const id = idOf(event);
      if (id) {
        this.select(id);
      }
    });
    document.getElementById('pager').addEventListener('click', (event) => {
      const link = event.target.closest('a[data-page]');
      if (!link) {
        return;
      }
      event.preventDefault();
      this.push(this.stateFromForm({ page: link.dataset.page }));
      this.refresh().then(() => {
        this.list.querySelector('.result__link')?.focus({ preventScroll: true });
        this.list.scrollIntoView({ block: 'nearest' });
      });
    });
  }

  select(id) {
    const params = new URLSearchParams(this.params);
    params.set('selected', String(id));
    this.push(params);
    this.sites.select(id);
    this.markSelected(id);
  }

  markSelected(id) {
    this.list.dataset.selected = String(id ?? '');
    for (const item of this.list.querySelectorAll('.result--selected')) {
      item.classList.remove('result--selected');
    }
    const entry = id === null ? null : this.results.entryOf(id);
    if (entry) {
      entry.classList.add('result--selected');
      entry.scrollIntoView({ block: 'nearest' });
    }
  }

  // --- the map --------------------------------------------------------------------------

  // True when the map still shows the URL's view, give or take rounding: a resize or a
  // restored page (back button) moves the centre by a pixel or two, and rewriting the URL
  // for that would make the same search a different address.
  showsViewOfUrl() {
    const view = parseMapView(this.params.get('map'));
    if (!view || view.zoom !== this.map.getZoom()) {
      return false;
    }
    const wanted = this.map.project([view.lat, view.lon]);
    return wanted.distanceTo(this.map.project(this.map.getCenter())) < 3;
  }

  bindMap() {
    this.sites.on('siteover', ({ id }) => this.results.entryOf(id)?.classList.add('result--hover'));
    this.sites.on('siteout', ({ id }) => this.results.entryOf(id)?.classList.remove('result--hover'));
    this.sites.on('siteselect', ({ id }) => {
      const params = new URLSearchParams(this.params);
      params.set('selected', String(id));
      this.push(params);
      this.markSelected(id);
    });
    // The map view is state too, but moving the map adds no history entry.
    this.map.on('moveend', () => {
      if (this.movingProgrammatically || this.showsViewOfUrl()) {
        return;
      }
      this.area.moved();
      const view = formatMapView(this.map);
      this.form.elements.map.value = view;
      this.params.set('map', view);
      window.history.replaceState(null, '', `?${this.params}`);
      this.links.update(this.params);
    });
  }
}
