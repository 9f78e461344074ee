// The offer builder: follows the PDF's rendering while it runs (polling its status
// endpoint; the page has a plain reload link without JavaScript) and copies link URLs.

const POLL_MS = 2000;

function followPdf(container) {
  const label = container.querySelector('[data-offer-pdf-label]');
  const poll = async () => {
    try {
      const response = await fetch(container.dataset.statusUrl, {
        headers: { Accept: 'application/json' },
        credentials: 'same-origin',
      });
      if (response.ok) {
        const state = await response.json();
        label.textContent = state.label;
        if (state.status !== 'pending') {
          // Ready or failed: the page shows the download link or the error and a retry.
          window.location.reload();
          return;
        }
      }
    } catch {
      // Network hiccup: try again at the next tick.
    }
    window.setTimeout(poll, POLL_MS);
  };
  window.setTimeout(poll, POLL_MS);
}

function enableCopy(button) {
  const input = document.getElementById(button.dataset.copyTarget);
  if (!input || !navigator.clipboard) {
    return;
  }
  button.hidden = false;
  const original = button.textContent;
  button.addEventListener('click', async () => {
    await navigator.clipboard.writeText(input.value);
    button.textContent = button.dataset.copied;
    window.setTimeout(() => { button.textContent = original; }, 2000);
  });
}

for (const container of document.querySelectorAll('[data-offer-pdf]')) {
  if (container.dataset.status === 'pending') {
    followPdf(container);
  }
}
for (const button of document.querySelectorAll('[data-copy-target]')) {
  enableCopy(button);
}
