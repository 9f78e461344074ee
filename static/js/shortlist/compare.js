// The shortlist page: remove buttons without a page reload. Without JavaScript the same
// forms post to the server; here the API removes the site and the table is fetched again,
// so the server alone decides what is marked best.
import { removeFromShortlist } from './toggle.js';

const page = document.getElementById('shortlist');
const apiUrl = page.dataset.shortlistApi;
const status = page.querySelector('[data-shortlist-status]');

async function rerender() {
  const response = await fetch(window.location.href, {
    credentials: 'same-origin',
    headers: { Accept: 'text/html' },
  });
  if (!response.ok) {
    throw new Error(`HTTP ${response.status}`);
  }
  const html = new DOMParser().parseFromString(await response.text(), 'text/html');
  const fresh = html.querySelector('#shortlist [data-shortlist-content]');
  page.querySelector('[data-shortlist-content]').replaceWith(fresh);
}

page.addEventListener('submit', async (event) => {
  const form = event.target.closest('form[data-shortlist-remove]');
  if (!form) {
    return;
  }
  event.preventDefault();
  const button = form.querySelector('button');
  button.disabled = true;
  try {
    await removeFromShortlist(apiUrl, form.elements.site.value);
    await rerender();
    status.textContent = form.dataset.removedMessage;
    // The column (and its button) is gone: continue from the heading.
    page.querySelector('#shortlist-title').focus();
  } catch {
    form.submit(); // the plain form post still works
  }
});
