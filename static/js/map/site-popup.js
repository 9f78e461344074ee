// The popup of a site on the map, built from the tile feature's properties. Built with DOM
// methods, never innerHTML: titles come from partners' data.
import { formatArea, formatPrice } from './format.js';

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) {
    node.className = className;
  }
  if (text !== undefined) {
    node.textContent = text;
  }
  return node;
}

export function buildSitePopup(properties, { kindLabels, messages, siteUrl }) {
  const root = element('div', 'site-popup');
  root.append(element('h2', 'site-popup__title', properties.title));

  const badges = element('p', 'site-popup__badges');
  if (properties.is_demo) {
    badges.append(element('span', 'badge badge--demo', messages.demo));
  }
  if (properties.status === 'reserved') {
    badges.append(element('span', 'status status--reserved', messages.reserved));
  }
  if (badges.childElementCount) {
    root.append(badges);
  }

  const facts = element('dl', 'site-popup__facts');
  const rows = [
    [messages.kind, kindLabels[properties.kind] || properties.kind],
    [messages.area, formatArea(properties.area_m2)],
    [messages.price, formatPrice(properties, messages)],
    [messages.municipality, properties.municipality || '–'],
  ];
  for (const [label, value] of rows) {
    const row = element('div', 'site-popup__row');
    row.append(element('dt', '', label), element('dd', '', value));
    facts.append(row);
  }
  root.append(facts);

  const link = element('a', 'site-popup__link button', messages.details);
  link.href = siteUrl.replace('{pk}', encodeURIComponent(properties.id));
  link.setAttribute('aria-label', messages.detailsOf.replace('%(title)s', properties.title));
  root.append(link);
  return root;
}
