// The boundary levels (region, districts, municipalities) from the one boundaries tile set,
// one map layer per level so that each can be switched on its own.
const LEVELS = ['region', 'districts', 'municipalities'];

// Boundaries come as lines (the tiles carry ST_Boundary), so they are never filled.
function levelStyle(slug, colour) {
  switch (slug) {
    case 'region':
      return { color: colour, weight: 2.5, opacity: 0.9, fill: false };
    case 'districts':
      return { color: colour, weight: 1.6, opacity: 0.9, dashArray: '6 4', fill: false };
    default:
      return { color: colour, weight: 0.8, opacity: 0.9, fill: false };
  }
}

export function createBoundaryLayer(urlTemplate, entry) {
  const styles = Object.fromEntries(LEVELS.map((level) => [level, []]));
  styles[entry.slug] = levelStyle(entry.slug, entry.colour);
  return L.vectorGrid.protobuf(urlTemplate, {
    pane: 'boundaryPane',
    className: `layer-${entry.slug}`,
    vectorTileLayerStyles: styles,
    interactive: false,
    attribution: entry.attribution,
  });
}

// Municipality names at their centres: the independent cities from zoom 9, all from 10,
// larger towns first; a name that would overlap one already shown is left out.
const LABEL_MIN_ZOOM = 9;
const ALL_LABELS_MIN_ZOOM = 10;

function overlaps(a, b) {
  return a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
}

export function createMunicipalityLabels(map, labels) {
  const group = L.layerGroup();
  const ordered = [...labels].sort(
    (a, b) => Number(b.major) - Number(a.major) || (b.population || 0) - (a.population || 0),
  );
  const markers = ordered.map((label) => {
    const icon = L.divIcon({ className: 'municipality-label', html: '', iconSize: null });
    const marker = L.marker([label.lat, label.lon], {
      icon, pane: 'labelPane', interactive: false, keyboard: false,
    });
    marker.on('add', () => {
      marker.getElement().textContent = label.name;
    });
    marker.label = label;
    group.addLayer(marker);
    return marker;
  });

  const placeLabels = () => {
    if (!map.hasLayer(group)) {
      return;
    }
    const zoom = map.getZoom();
    const shown = [];
    for (const marker of markers) {
      const element = marker.getElement();
      if (!element) {
        continue;
      }
      element.hidden = false;
      const wanted = zoom >= ALL_LABELS_MIN_ZOOM || (zoom >= LABEL_MIN_ZOOM && marker.label.major);
      const box = element.getBoundingClientRect();
      if (!wanted || shown.some((other) => overlaps(box, other))) {
        element.hidden = true;
      } else {
        shown.push(box);
      }
    }
  };
  map.on('zoomend', placeLabels);
  group.on('add', () => requestAnimationFrame(placeLabels));
  return group;
}
