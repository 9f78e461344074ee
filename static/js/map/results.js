// The result list beside the map: count, entries, pages and errors, fetched from the sites
// API with the page's state. Built with DOM methods, never innerHTML: titles come from
// partners' data. The server renders the same markup for the first page (map.html).
import { formatNumber, formatPrice } from './format.js';

// Where an error of a parameter is shown: next to the control that sets it.
function errorTarget(name) {
  if (name === 'area_min_ha' || name === 'area_max_ha') {
    return name.slice(0, -3);
  }
  if (name === 'station_max_category') {
    return 'max_distance_station_m';
  }
  if (['near', 'radius_m', 'bbox'].includes(name)) {
    return 'area';
  }
  if (name === 'district') {
    return 'municipality';
  }
  return name;
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) {
    node.className = className;
  }
  if (text !== undefined) {
    node.textContent = text;
  }
  return node;
}

export function interpolate(template, values) {
  return template.replace(/%\((\w+)\)s/g, (match, key) => (key in values ? values[key] : match));
}

export function formatListArea(squareMetres) {
  if (squareMetres === undefined || squareMetres === null) {
    return '–';
  }
  // The rounding of presentation.area_short: hectares to one decimal without a trailing
  // zero ("9.2 ha", "10 ha") from one hectare on, else whole square metres.
  if (squareMetres >= 10000) {
    const hectares = Math.round(squareMetres / 1000) / 10;
    return `${formatNumber(hectares, Number.isInteger(hectares) ? 0 : 1)} ha`;
  }
  return `${formatNumber(Math.round(squareMetres))} m²`;
}

export function countText(count, messages, exact = true) {
  if (count === 1) {
    return messages.resultsOne;
  }
  // Above the exact-count limit the API estimates (count_is_exact false): "about".
  const template = exact === false ? messages.resultsAbout : messages.resultsMany;
  return interpolate(template, { count: formatNumber(count) });
}

export class ResultList {
  constructor(config) {
    this.config = config;
    this.messages = config.messages;
    this.kinds = Object.fromEntries(config.kinds.map((kind) => [kind.value, kind]));
    this.list = document.getElementById('result-list');
    this.count = document.getElementById('results-count');
    this.empty = document.getElementById('results-empty');
    this.pager = document.getElementById('pager');
    this.formErrors = document.getElementById('form-errors');
    this.controller = null;
  }

  apiQuery(params) {
    const query = new URLSearchParams(params);
    query.delete('map');
    query.delete('selected');
    if (!query.has('sort')) {
      query.set('sort', 'newest');
    }
    query.set('page_size', String(this.config.pageSize));
    return query;
  }

  // Fetches and shows the results of `params`; resolves to true when they were shown.
  async load(params) {
    this.controller?.abort();
    const controller = new AbortController();
    this.controller = controller;
    this.list.setAttribute('aria-busy', 'true');
    let response;
    let body;
    try {
      response = await fetch(`${this.config.apiUrl}?${this.apiQuery(params)}`, {
        headers: { Accept: 'application/json' },
        signal: controller.signal,
      });
      body = await response.json();
    } catch (error) {
      if (error.name === 'AbortError') {
        return false;
      }
      this.showFailure();
      return false;
    } finally {
      if (this.controller === controller) {
        this.list.removeAttribute('aria-busy');
      }
    }
    if (controller.signal.aborted) {
      return false;
    }
    this.clearErrors();
    if (response.status === 400) {
      this.showErrors(body);
      return false;
    }
    if (response.status === 404 && body.page && params.get('page')) {
      // A page past the end (the results shrank): the first page instead.
      const first = new URLSearchParams(params);
      first.delete('page');
      return this.load(first);
    }
    if (!response.ok) {
      this.showFailure();
      return false;
    }
    this.render(body, params);
    return true;
  }

  clearErrors() {
    document.querySelectorAll('.field__error').forEach((node) => {
      node.hidden = true;
      node.textContent = '';
    });
    document.querySelectorAll('.field--invalid').forEach((node) => node.classList.remove('field--invalid'));
    document.querySelectorAll('[aria-invalid="true"]').forEach((node) => node.removeAttribute('aria-invalid'));
    this.formErrors.hidden = true;
    this.formErrors.textContent = '';
  }

  showErrors(errors) {
    const general = [];
    for (const [name, messages] of Object.entries(errors)) {
      const target = errorTarget(name);
      const node = document.getElementById(`filter-${target}-error`);
      const text = [].concat(messages).join(' ');
      if (!node) {
        general.push(text);
        continue;
      }
      node.textContent = node.textContent ? `${node.textContent} ${text}` : text;
      node.hidden = false;
      node.closest('.field')?.classList.add('field--invalid');
      document.getElementById(`filter-${target}`)?.setAttribute('aria-invalid', 'true');
    }
    this.formErrors.textContent = [this.messages.invalid, ...general].join(' ');
    this.formErrors.hidden = false;
    this.count.textContent = this.messages.invalid;
    this.list.replaceChildren();
    this.empty.hidden = true;
    this.pager.hidden = true;
  }

  showFailure() {
    this.count.textContent = this.messages.failed;
  }

  render(collection, params) {
    const sort = params.get('sort') || 'newest';
    const distanceColumn = sort.startsWith('distance_') ? `distance_to_${sort.slice(9)}_m` : null;
    const distanceLabel = this.config.sortDistanceLabels[sort] || '';
    const selected = params.get('selected');
    this.count.textContent = countText(collection.count, this.messages, collection.count_is_exact);
    this.lastCount = collection.count;
    this.list.replaceChildren(
      ...collection.features.map((feature) =>
        this.entry(feature, { distanceColumn, distanceLabel, selected })),
    );
    this.list.dataset.selected = selected || '';
    this.empty.hidden = collection.count > 0;
    this.renderPager(collection.count, Number(params.get('page') || 1), params);
  }

  entry(feature, { distanceColumn, distanceLabel, selected }) {
    const properties = feature.properties;
    const id = String(feature.id ?? properties.id);
    const item = element('li', 'result');
    item.dataset.siteId = id;
    if (id === selected) {
      item.classList.add('result--selected');
    }
    const link = element('a', 'result__link');
    link.href = this.config.siteUrl.replace('{pk}', encodeURIComponent(id));
    link.append(element('span', 'result__title', properties.title));
    item.append(link);

    const meta = element('p', 'result__meta');
    const kind = this.kinds[properties.kind];
    const chip = element('span', 'kind-chip', kind ? kind.label : properties.kind);
    chip.style.setProperty('--symbol-colour', kind ? kind.colour : '#546e7a');
    meta.append(chip, element('span', 'result__place', properties.municipality_name || ''));
    if (properties.is_demo) {
      meta.append(element('span', 'badge badge--demo', this.messages.demo));
    }
    if (properties.status === 'reserved') {
      meta.append(element('span', 'status status--reserved', this.messages.reserved));
    }
    item.append(meta);

    const facts = element('p', 'result__facts');
    facts.append(
      element('span', 'result__area', formatListArea(properties.gross_area_m2)),
      element('span', 'result__price', formatPrice(properties, this.messages)),
    );
    if (distanceColumn) {
      const metres = properties[distanceColumn];
      const distance = element(
        'span', 'result__distance',
        metres === null || metres === undefined ? '–' : `${formatNumber(metres / 1000, 1)} km`,
      );
      distance.append(' ', element('span', 'result__distance-label', `· ${distanceLabel}`));
      facts.append(distance);
    }
    item.append(facts);
    return item;
  }

  renderPager(count, page, params) {
    const pages = Math.max(1, Math.ceil(count / this.config.pageSize));
    this.pager.replaceChildren();
    this.pager.hidden = pages < 2;
    if (pages < 2) {
      return;
    }
    const link = (number, rel, text) => {
      const query = new URLSearchParams(params);
      query.set('page', String(number));
      const anchor = element('a', 'pager__link', text);
      anchor.href = `?${query}`;
      anchor.rel = rel;
      anchor.dataset.page = String(number);
      return anchor;
    };
    if (page > 1) {
      this.pager.append(link(page - 1, 'prev', this.messages.previous));
    }
    this.pager.append(element(
      'span', 'pager__status',
      interpolate(this.messages.pageOf, { page: formatNumber(page), pages: formatNumber(pages) }),
    ));
    if (page < pages) {
      this.pager.append(link(page + 1, 'next', this.messages.next));
    }
  }

  entryOf(id) {
    return this.list.querySelector(`.result[data-site-id="${CSS.escape(String(id))}"]`);
  }
}
