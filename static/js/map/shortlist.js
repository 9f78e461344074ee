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

  update(button, on) {
    button.setAttribute('aria-pressed', String(on));
    button.textContent = on ? `★ ${this.messages.shortlisted}` : `☆ ${this.messages.shortlist}`;
    button.setAttribute(
      'aria-label',
      interpolate(on ? this.messages.shortlistRemove : this.messages.shortlistAdd, { title: button.dataset.title }),
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
