// The shortlist button on a site's page (../shortlist/toggle.js does the API calls). It is
// shown once the page knows whether the site is on the list; a failure is said beside it
// (in a live region that is always there, so that screen readers announce it).
import { bindShortlistToggles, fetchShortlist, markShortlisted } from '../shortlist/toggle.js';

async function init() {
  const buttons = [...document.querySelectorAll('[data-shortlist-toggle][data-site-id]')];
  const status = document.getElementById('site-shortlist-status');
  if (!buttons.length || !status) {
    return;
  }
  const apiUrl = buttons[0].dataset.shortlistApi;
  const showError = (error) => {
    // The API's own message for a refused change (a full list); else a general one.
    status.textContent = error.status && error.status < 500 && error.message
      ? error.message : status.dataset.failed;
  };
  document.addEventListener('click', (event) => {
    if (event.target.closest('[data-shortlist-toggle]')) {
      status.textContent = '';
    }
  }, { capture: true });
  bindShortlistToggles({ apiUrl, onError: showError });
  let ids;
  try {
    ids = await fetchShortlist(apiUrl);
  } catch {
    return; // no shortlist without its API: the button stays hidden
  }
  markShortlisted(ids);
  for (const button of buttons) {
    button.hidden = false;
  }
}

init();
