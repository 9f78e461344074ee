// Shortlisting a site from any page through the shortlist API: GET and POST
// /api/v1/shortlist/, DELETE /api/v1/shortlist/<id>/. The page gives the API's URL (a
// data-shortlist-api attribute); the CSRF token comes from Django's csrftoken cookie.
// Every element marked [data-shortlist-count] shows how many sites are on the list.
//
// A toggle button on the map or a site's page:
//   <button type="button" data-shortlist-toggle data-site-id="12" aria-pressed="false"
//           data-shortlist-api="/api/v1/shortlist/">Shortlist</button>
// and once per page: bindShortlistToggles({ apiUrl, onError }).

export class ShortlistError extends Error {
  constructor(message, status) {
    super(message);
    this.name = 'ShortlistError';
    this.status = status;
  }
}

export function csrfToken() {
  const prefix = 'csrftoken=';
  const cookie = document.cookie
    .split(';')
    .map((part) => part.trim())
    .find((part) => part.startsWith(prefix));
  return cookie ? decodeURIComponent(cookie.slice(prefix.length)) : '';
}

export function updateShortlistCount(ids, root = document) {
  const text = new Intl.NumberFormat(document.documentElement.lang || 'de').format(ids.length);
  for (const element of root.querySelectorAll('[data-shortlist-count]')) {
    element.textContent = text;
  }
}

// Marks each toggle button pressed if its site is on the list.
export function markShortlisted(ids, root = document) {
  const onList = new Set(ids.map(Number));
  for (const button of root.querySelectorAll('[data-shortlist-toggle][data-site-id]')) {
    button.setAttribute('aria-pressed', String(onList.has(Number(button.dataset.siteId))));
  }
}

async function call(url, { method = 'GET', body } = {}) {
  const headers = { Accept: 'application/json' };
  if (method !== 'GET') {
    headers['X-CSRFToken'] = csrfToken();
  }
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
  }
  const response = await fetch(url, {
    method,
    headers,
    credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    // Errors name the field: {"site": ["..."]}; DRF's own ones carry "detail".
    const message = (Array.isArray(data.site) && data.site[0]) || data.detail;
    throw new ShortlistError(message || `HTTP ${response.status}`, response.status);
  }
  updateShortlistCount(data.ids);
  return data.ids;
}

function entryUrl(apiUrl, siteId) {
  return `${apiUrl.replace(/\/?$/, '/')}${encodeURIComponent(siteId)}/`;
}

export function fetchShortlist(apiUrl) {
  return call(apiUrl);
}

export function addToShortlist(apiUrl, siteId) {
  return call(apiUrl, { method: 'POST', body: { site: Number(siteId) } });
}

export function removeFromShortlist(apiUrl, siteId) {
  return call(entryUrl(apiUrl, siteId), { method: 'DELETE' });
}

// Puts a site on the list (shortlisted = true) or takes it off; resolves to the ids on it.
export function toggleShortlist(apiUrl, siteId, shortlisted) {
  return shortlisted ? addToShortlist(apiUrl, siteId) : removeFromShortlist(apiUrl, siteId);
}

// Handles clicks on every [data-shortlist-toggle] button under `root`, also ones added later
// (map popups). The API URL: the button's or an ancestor's data-shortlist-api, else `apiUrl`.
export function bindShortlistToggles({ root = document, apiUrl = '', onError } = {}) {
  root.addEventListener('click', async (event) => {
    const button = event.target.closest('[data-shortlist-toggle]');
    if (!button) {
      return;
    }
    event.preventDefault();
    const url = button.closest('[data-shortlist-api]')?.dataset.shortlistApi || apiUrl;
    const wanted = button.getAttribute('aria-pressed') !== 'true';
    button.disabled = true;
    try {
      markShortlisted(await toggleShortlist(url, button.dataset.siteId, wanted), root);
    } catch (error) {
      if (onError) {
        onError(error, button);
      } else {
        throw error;
      }
    } finally {
      button.disabled = false;
    }
  });
}
