// The bulk upload: a busy indicator while the server checks or writes the file (a large
// file takes a few seconds), and no second submission meanwhile.
const busy = document.getElementById('upload-busy');

for (const form of document.querySelectorAll('form[data-busy-form]')) {
  form.addEventListener('submit', (event) => {
    if (form.dataset.busy === 'true') {
      event.preventDefault();
      return;
    }
    form.dataset.busy = 'true';
    form.setAttribute('aria-busy', 'true');
    busy.hidden = false;
    // Disabled after the browser has read the form: a disabled button's name would be lost.
    window.setTimeout(() => {
      for (const button of document.querySelectorAll('form[data-busy-form] button')) {
        button.disabled = true;
      }
    }, 0);
  });
}

// Back from the next page (bfcache): the form is usable again.
window.addEventListener('pageshow', () => {
  busy.hidden = true;
  for (const form of document.querySelectorAll('form[data-busy-form]')) {
    delete form.dataset.busy;
    form.removeAttribute('aria-busy');
    for (const button of form.querySelectorAll('button')) {
      button.disabled = false;
    }
  }
});

// A job in the background: poll its status, move the bars, and show the report (reload)
// when the worker is done. Without JavaScript the page refreshes itself (noscript meta).
const progress = document.getElementById('upload-progress');
const POLL_MS = 1000;

function showProgress(state) {
  for (const key of ['read', 'checked', 'written']) {
    const bar = progress.querySelector(`progress[data-progress="${key}"]`);
    const text = progress.querySelector(`[data-progress-text="${key}"]`);
    if (!bar) continue;
    const [done, total] = state[key];
    if (total) {
      bar.max = Math.max(total, done, 1);
      bar.value = done;
      text.textContent = `${done} / ${total}`;
    } else {
      bar.removeAttribute('value'); // indeterminate: this stage has not reported yet
      text.textContent = '';
    }
  }
  const status = document.getElementById('progress-status');
  const label = state.stage_label ? `${state.status_label}: ${state.stage_label}` : state.status_label;
  if (status.textContent !== label) status.textContent = label;
}

async function poll() {
  try {
    const response = await fetch(progress.dataset.statusUrl, {
      headers: { Accept: 'application/json' },
      credentials: 'same-origin',
    });
    if (response.ok) {
      const state = await response.json();
      showProgress(state);
      if (state.finished) {
        window.location.reload();
        return;
      }
    }
  } catch {
    // the server is busy or restarting: try again
  }
  window.setTimeout(poll, POLL_MS);
}

if (progress) {
  window.setTimeout(poll, POLL_MS);
}
