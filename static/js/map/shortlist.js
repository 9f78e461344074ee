// Shortlist buttons on the result list, on top of the shared shortlist client
// (../shortlist/toggle.js). Until that API answers (config.shortlistUrl is null, or it
// fails) no button is shown.
import { fetchShortlist, toggleShortlist } from '../shortlist/toggle.js';
import { interpolate } from './results.js';

export class Shortlist {
  constructor(url, messages) {
    this.url = url;
    this.messages = messages;
    this.ids = null;
  }

  async start(list) {
    if (!this.url) {
      return;
    }
    try {
      this.ids = new Set((await fetchShortlist(this.url)).map(String));
    } catch {
      return;
    }
    this.decorate(list);
    list.addEventListener('click', (event) => {
      const button = event.target.closest('.result__shortlist');
      if (button) {
        this.toggle(button);
      }
    });
  }

  decorate(list) {
    if (!this.ids) {
      return;
    }
    for (const item of list.querySelectorAll('.result')) {
      if (item.querySelector('.result__shortlist')) {
        continue;
      }
      const title = item.querySelector('.result__title').textContent;
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'result__shortlist';
      button.dataset.title = title;
      this.update(button, this.ids.has(item.dataset.siteId));
      item.append(button);
    }
  }

  // The accessible name is the visible text plus the site's title (hidden), so speech
  // input users can say what they see (WCAG 2.5.3); the tooltip says what a click does.
  update(button, on) {
    button.setAttribute('aria-pressed', String(on));
    const star = document.createElement('span');
    star.setAttribute('aria-hidden', 'true');
    star.textContent = on ? '★ ' : '☆ ';
    const title = document.createElement('span');
    title.className = 'visually-hidden';
    title.textContent = `: ${button.dataset.title}`;
    button.replaceChildren(star, on ? this.messages.shortlisted : this.messages.shortlist, title);
    button.title = interpolate(
      on ? this.messages.shortlistRemove : this.messages.shortlistAdd, { title: button.dataset.title },
    );
  }

  async toggle(button) {
    const id = button.closest('.result').dataset.siteId;
    button.disabled = true;
    try {
      this.ids = new Set((await toggleShortlist(this.url, id, !this.ids.has(id))).map(String));
      this.update(button, this.ids.has(id));
    } catch {
      // A full list or a site that went away: the button keeps its state.
    } finally {
      button.disabled = false;
    }
  }
}
