// The header on phones: the menu (navigation and language) folds behind a "Menu" button.
// Without JavaScript it stays open; on wide screens the button is never shown (mobile.css).
const header = document.querySelector('.site-header');
const toggle = header?.querySelector('.nav-toggle');
if (header && toggle) {
  header.classList.add('site-header--collapsible');
  toggle.hidden = false;
  toggle.addEventListener('click', () => {
    const open = toggle.getAttribute('aria-expanded') !== 'true';
    toggle.setAttribute('aria-expanded', String(open));
    header.classList.toggle('site-header--open', open);
  });
}
