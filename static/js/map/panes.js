// Map panes in drawing order: boundaries at the bottom, then reference layers and sites;
// the place names above the sites and their cluster circles, so that a cluster never hides
// a name (the names take no clicks). Leaflet's own panes sit at 200 (tiles), 400
// (overlays), 600 (markers) and 700 (popups).
const PANES = [
  ['boundaryPane', 250],
  ['referencePane', 350],
  ['sitesPane', 450],
  ['labelPane', 500],
];

export function createPanes(map) {
  for (const [name, zIndex] of PANES) {
    map.createPane(name).style.zIndex = String(zIndex);
  }
  // Names are orientation only: never in the way of a click on a site.
  map.getPane('labelPane').style.pointerEvents = 'none';
}
