// The nearest feature of every reference layer on a site's map: the feature in its layer
// colour, a dashed connector from the site (computed by PostGIS) and the distance.
const PANE = 'nearestPane';

function featureLayer(entry) {
  return L.geoJSON(entry.feature, {
    pane: PANE,
    interactive: false,
    style: { color: entry.colour, weight: 5, opacity: 0.8 },
    pointToLayer: (point, latlng) => L.circleMarker(latlng, {
      pane: PANE,
      radius: 7,
      color: entry.colour,
      weight: 3,
      fillColor: '#ffffff',
      fillOpacity: 1,
    }),
  });
}

function connectorLayer(entry) {
  const connector = L.geoJSON(entry.connector, {
    pane: PANE,
    style: { color: '#263238', weight: 2, dashArray: '6 6', opacity: 0.9 },
  });
  connector.bindTooltip(`${entry.layerName}: ${entry.name} · ${entry.distance}`, {
    permanent: false,
    sticky: true,
  });
  return connector;
}

// Returns a layer group with every entry; a feature nearest for two distances (a station
// that is also the nearest major station) is drawn once, labelled with its distance once.
export function createNearestLayer(map, entries) {
  if (!map.getPane(PANE)) {
    map.createPane(PANE).style.zIndex = '420';
  }
  const group = L.featureGroup();
  const drawn = new Set();
  for (const entry of entries) {
    if (drawn.has(entry.featureId)) {
      continue;
    }
    drawn.add(entry.featureId);
    const connector = connectorLayer(entry);
    connector.addTo(group);
    featureLayer(entry).addTo(group);
    // The distance sits just beyond the feature, on the side away from the site, so it
    // never covers the site; a feature next to the site (under 100 m) keeps it in the
    // connector's tooltip.
    if (entry.distanceM < 100) {
      continue;
    }
    const [start, end] = entry.connector.coordinates;
    const dx = end[0] - start[0];
    const dy = end[1] - start[1];
    let direction = dy > 0 ? 'top' : 'bottom';
    if (Math.abs(dx) > Math.abs(dy) * 1.5) {
      direction = dx > 0 ? 'right' : 'left';
    }
    const offsets = { top: [0, -8], bottom: [0, 8], left: [-8, 0], right: [8, 0] };
    L.tooltip({
      permanent: true,
      direction,
      offset: offsets[direction],
      className: 'distance-label',
      pane: 'tooltipPane',
    })
      .setLatLng([end[1], end[0]])
      .setContent(entry.distance)
      .addTo(group);
  }
  return group;
}
