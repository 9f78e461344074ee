// The drawing toolbar's state, the same on every map that draws: which tool is pressed
// (aria-pressed), the map's drawing cursor, and the hint under the tools.
export function showDrawMode({ map, tools, hint }, name, hintText) {
  for (const button of tools.querySelectorAll('button[data-draw]')) {
    if (button.dataset.draw !== 'clear') {
      button.setAttribute('aria-pressed', String(button.dataset.draw === name));
    }
  }
  map.getContainer().classList.toggle('map--drawing', Boolean(name));
  hint.textContent = (name && hintText) || '';
  hint.hidden = !name;
}
