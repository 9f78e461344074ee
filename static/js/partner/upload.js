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
