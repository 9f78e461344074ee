// Links and forms that carry the current search: the exports (the filters and the sort, not
// the page's view), "Save this search" (its hidden query and where to come back to), the
// log-in link, and the language switcher's way back. The server renders them for the URL
// the page was opened with; these keep them in step as the URL changes.
import { formatNumber } from './format.js';
import { interpolate } from './results.js';

// Parameters that only say what the page shows, never sent with an export or a saved search
// (properties/search.py PAGE_ONLY_PARAMETERS); the sort stays: it orders the export.
const VIEW_ONLY = ['page', 'page_size', 'selected', 'map', 'format'];

export function searchQuery(params) {
  const query = new URLSearchParams(params);
  for (const name of VIEW_ONLY) {
    query.delete(name);
  }
  return query.toString();
}

export class SearchLinks {
  constructor(config) {
    this.maxRows = config.exportMaxRows;
    this.messages = config.messages;
    this.root = document.getElementById('search-actions');
    this.exports = document.getElementById('search-export');
    this.tooMany = document.getElementById('search-export-too-many');
  }

  // The URL changed (a filter, the sort, the map view, back and forward).
  update(params) {
    const query = searchQuery(params);
    const here = window.location.pathname + window.location.search;
    this.root.dataset.searchQuery = query;
    for (const link of this.root.querySelectorAll('a[data-export-url]')) {
      link.href = query ? `${link.dataset.exportUrl}?${query}` : link.dataset.exportUrl;
    }
    for (const input of this.root.querySelectorAll('input[data-search-query]')) {
      input.value = query;
    }
    for (const input of this.root.querySelectorAll('input[data-search-next]')) {
      input.value = here;
    }
    const login = this.root.querySelector('a[data-login-url]');
    if (login) {
      // This link and the header's "Log in" come back to the same search.
      const loginUrl = login.dataset.loginUrl;
      for (const link of document.querySelectorAll(`a[href^="${loginUrl}?next="]`)) {
        link.href = `${loginUrl}?next=${encodeURIComponent(here)}`;
      }
    }
    // After switching the language the same search comes back.
    for (const input of document.querySelectorAll('.language-switcher input[name="next"]')) {
      input.value = here;
    }
  }

  // The number of results is known: an export holds at most `exportMaxRows` sites.
  showCount(count) {
    const tooMany = count > this.maxRows;
    this.exports.hidden = tooMany;
    this.tooMany.hidden = !tooMany;
    if (tooMany) {
      this.tooMany.textContent = interpolate(
        this.messages.exportTooMany, { max: formatNumber(this.maxRows) },
      );
    }
  }
}
