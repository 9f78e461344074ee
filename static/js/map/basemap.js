// The optional raster base map. Without one (no URL configured, or no internet wanted) the
// map shows a plain background and the region's own boundaries give orientation.
export function addBasemap(map, basemap) {
  if (!basemap || !basemap.url) {
    map.getContainer().classList.add('map--plain');
    return null;
  }
  return L.tileLayer(basemap.url, {
    attribution: basemap.attribution,
    maxZoom: 19,
  }).addTo(map);
}
