// The search state is the URL's query string: the filter form's values in the API's
// parameters (kilometres become metres, the area unit picks area_min or area_min_ha), the
// drawn area, the sort order, the page, the map view and the selected site.
const DEFAULTS = { sort: 'newest', area_unit: 'm2' };

// Parameters that choose how results are shown, not which sites match.
export const VIEW_PARAMETERS = ['sort', 'page', 'map', 'selected'];

function trimNumber(number) {
  return String(Math.round(number * 1000) / 1000);
}

// The form's values as URL parameters, in the form's order, without empty values and defaults.
export function formToParams(form) {
  const data = new FormData(form);
  const hectares = data.get('area_unit') === 'ha';
  const params = new URLSearchParams();
  for (const [key, rawValue] of data) {
    const value = String(rawValue).trim();
    if (value === '' || key === 'area_unit' || DEFAULTS[key] === value) {
      continue;
    }
    if (key.endsWith('_km')) {
      const km = Number(value.replace(',', '.'));
      params.append(`${key.slice(0, -3)}_m`, Number.isFinite(km) ? trimNumber(km * 1000) : value);
    } else if (hectares && (key === 'area_min' || key === 'area_max')) {
      params.append(`${key}_ha`, value);
    } else {
      params.append(key, value);
    }
  }
  return params;
}

// Puts URL parameters back into the form (back button, a shared link).
export function paramsToForm(form, params) {
  const hectares = params.has('area_min_ha') || params.has('area_max_ha');
  for (const element of form.elements) {
    const { name } = element;
    if (!name) {
      continue;
    }
    if (element.type === 'checkbox') {
      element.checked = params.getAll(name).includes(element.value);
    } else if (name.endsWith('_km')) {
      const metres = params.get(`${name.slice(0, -3)}_m`);
      element.value = metres === null ? '' : trimNumber(Number(metres) / 1000);
    } else if (name === 'area_unit') {
      element.value = hectares ? 'ha' : 'm2';
    } else if (name === 'area_min' || name === 'area_max') {
      element.value = params.get(hectares ? `${name}_ha` : name) ?? '';
    } else if (element.tagName === 'SELECT' || element.tagName === 'INPUT') {
      element.value = params.get(name) ?? DEFAULTS[name] ?? '';
    }
  }
}

// Only the parameters that select sites: for the tiles (the map shows the same set).
export function filterParams(params) {
  const result = new URLSearchParams(params);
  for (const name of VIEW_PARAMETERS) {
    result.delete(name);
  }
  return result;
}

// "11.25/51.45213/7.01234" <-> { zoom, lat, lon }
export function parseMapView(value) {
  const parts = (value || '').split('/').map(Number);
  if (parts.length !== 3 || parts.some((part) => !Number.isFinite(part))) {
    return null;
  }
  const [zoom, lat, lon] = parts;
  return { zoom, lat, lon };
}

export function formatMapView(map) {
  const centre = map.getCenter();
  return `${trimNumber(map.getZoom())}/${centre.lat.toFixed(5)}/${centre.lng.toFixed(5)}`;
}
