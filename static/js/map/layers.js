// Reference layers (stations, railway lines, ...) and the layer switcher that turns them,
// and the boundary levels, on and off.
function featureStyle(entry) {
  const colour = entry.colour;
  switch (entry.geometry) {
    case 'point':
      // Rings with a white centre: filled dots on the map always mean sites.
      return (properties, zoom) => ({
        fill: true, fillColor: '#ffffff', fillOpacity: 1,
        color: colour, weight: zoom < 11 ? 2 : 2.5,
        // Main stations (category 1-3) a little larger.
        radius: (zoom < 11 ? 3 : 4.5) + (properties.category && properties.category <= 3 ? 1.5 : 0),
      });
    case 'line':
      return (properties, zoom) => ({ color: colour, weight: zoom < 11 ? 1.5 : 2.5, opacity: 0.85 });
    default:
      return { color: colour, weight: 1, fill: true, fillColor: colour, fillOpacity: 0.3 };
  }
}

export function createReferenceLayer(urlTemplate, entry) {
  const url = urlTemplate.replace('{slug}', encodeURIComponent(entry.slug));
  return L.vectorGrid.protobuf(url, {
    pane: 'referencePane',
    className: `layer-${entry.slug}`,
    vectorTileLayerStyles: { [entry.slug]: featureStyle(entry) },
    interactive: false,
    attribution: entry.attribution,
  });
}

// Binds the switcher's checkboxes (rendered by the template, one per layer, with
// data-layer="<slug>") to the map layers. Layers without data have a disabled checkbox and
// a visible note, so switching them on never silently does nothing.
export function bindLayerSwitcher(form, map, layersBySlug) {
  const sync = (checkbox) => {
    const layer = layersBySlug.get(checkbox.dataset.layer);
    if (!layer) {
      return;
    }
    if (checkbox.checked && !checkbox.disabled) {
      layer.addTo(map);
    } else {
      layer.remove();
    }
  };
  const checkboxes = form.querySelectorAll('input[type="checkbox"][data-layer]');
  checkboxes.forEach(sync);
  form.addEventListener('change', (event) => {
    if (event.target.matches('input[type="checkbox"][data-layer]')) {
      sync(event.target);
    }
  });
  // The form only switches layers; it is never sent.
  form.addEventListener('submit', (event) => event.preventDefault());
}
