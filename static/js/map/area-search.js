// The list and the map area: "Search this area" appears once the map was moved and limits
// the search to what the map shows (the `bbox` parameter); opted in, the list follows the
// map as it moves. The line under the count says what area the count counts.
const FOLLOW_KEY = 'sitefinder.follow-map';
const FOLLOW_DELAY_MS = 400;

function bboxOf(map) {
  const bounds = map.getBounds();
  return [bounds.getWest(), bounds.getSouth(), bounds.getEast(), bounds.getNorth()]
    .map((value) => value.toFixed(5)).join(',');
}

export function scopeText(params, messages) {
  const parts = [];
  if (params.get('bbox')) {
    parts.push(messages.scopeBbox);
  }
  if (params.get('area')) {
    parts.push(messages.scopeArea);
  } else if (params.get('near')) {
    parts.push(messages.scopeNear);
  }
  if (params.getAll('municipality').length || params.getAll('district').length) {
    parts.push(messages.scopePlaces);
  }
  return parts.join(', ') || messages.scopeRegion;
}

export class AreaSearch {
  // onChange(bbox): set the form's bbox (empty: the whole region) and search again.
  constructor({ map, messages, onChange }) {
    this.map = map;
    this.messages = messages;
    this.onChange = onChange;
    this.button = document.getElementById('search-this-area');
    this.scope = document.getElementById('results-scope-text');
    this.clear = document.getElementById('results-scope-clear');
    this.follow = document.getElementById('follow-map');
    this.timer = null;
  }

  start() {
    this.button.addEventListener('click', () => {
      this.button.hidden = true;
      this.onChange(bboxOf(this.map));
    });
    this.clear.addEventListener('click', () => this.onChange(''));
    this.follow.closest('label').hidden = false;
    try {
      this.follow.checked = window.localStorage.getItem(FOLLOW_KEY) === 'true';
    } catch {
      this.follow.checked = false;
    }
    this.follow.addEventListener('change', () => {
      try {
        window.localStorage.setItem(FOLLOW_KEY, String(this.follow.checked));
      } catch {
        // private mode: for this page only
      }
      if (this.follow.checked) {
        this.onChange(bboxOf(this.map));
      }
    });
  }

  // The user moved the map (not the page itself).
  moved() {
    if (this.follow.checked) {
      window.clearTimeout(this.timer);
      this.timer = window.setTimeout(() => this.onChange(bboxOf(this.map)), FOLLOW_DELAY_MS);
    } else {
      this.button.hidden = false;
    }
  }

  update(params) {
    this.scope.textContent = scopeText(params, this.messages);
    this.clear.hidden = !params.get('bbox');
  }
}
