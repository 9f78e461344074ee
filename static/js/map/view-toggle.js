// Phones: the search shows its filters, its list or its map, one at a time (mobile.css
// reads main[data-view]); the choice lasts for the visit. On wide screens all three show.
const STORAGE_KEY = 'sitefinder.search-view';

export function bindViewToggle(map) {
  const toggle = document.getElementById('view-toggle');
  const main = document.querySelector('main.search-page');
  if (!toggle || !main) {
    return;
  }
  const show = (view) => {
    main.dataset.view = view;
    for (const button of toggle.querySelectorAll('button[data-view]')) {
      button.setAttribute('aria-pressed', String(button.dataset.view === view));
    }
    try {
      window.sessionStorage.setItem(STORAGE_KEY, view);
    } catch {
      // private mode: for this page only
    }
    if (view === 'map') {
      // The map was hidden: let Leaflet measure its box again.
      requestAnimationFrame(() => map.invalidateSize());
    }
  };
  let stored = null;
  try {
    stored = window.sessionStorage.getItem(STORAGE_KEY);
  } catch {
    stored = null;
  }
  toggle.hidden = false;
  toggle.addEventListener('click', (event) => {
    const button = event.target.closest('button[data-view]');
    if (button) {
      show(button.dataset.view);
    }
  });
  show(['filters', 'list', 'map'].includes(stored) ? stored : 'list');
}
