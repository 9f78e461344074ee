// The published sites from vector tiles: grid clusters below zoom 13 (a feature with
// `cluster_count` stands for that many sites, drawn as a circle with the number in it; a
// lone site stays itself), points at zoom 13, footprints from 14 on. Drawn as SVG so each
// site is a DOM element that receives clicks. A search with too many sites for a low-zoom
// tile gets the clusters of all sites, marked `unfiltered`: drawn hollow, and the map's
// status line asks to zoom in.
import { buildSitePopup } from './site-popup.js';

// Leaflet (>= 1.5) reads a clicked CircleMarker's position with getLatLng(), which
// VectorGrid's point symbolizers (tile pixels only) cannot answer: every click on a point
// threw. Without getLatLng Leaflet takes the mouse position instead. Leaflet.VectorGrid
// issues #148 and #267.
const ClickablePointsProtobuf = L.VectorGrid.Protobuf.extend({
  _createLayer(feature, pxPerExtent, layerStyle) {
    const layer = L.VectorGrid.Protobuf.prototype._createLayer.call(
      this, feature, pxPerExtent, layerStyle,
    );
    if (feature.type === 1) {
      layer.getLatLng = null;
    }
    // The site id is the tile feature's id (and, by contract, also a property).
    if (layer.properties.id === undefined && feature.id !== undefined) {
      layer.properties = { ...layer.properties, id: feature.id };
    }
    return layer;
  },

  // Leaflet 1.9.3's redraw() (run by setUrl when the filters change) takes the map's zoom
  // unrounded: at a fractional zoom (the map snaps to quarters) it asked for tiles such as
  // /tiles/sites/13.25/x/y.pbf, which do not exist, and the sites vanished. Tiles are only
  // made for whole zoom levels, as GridLayer's own _setView() rounds.
  redraw() {
    if (this._map) {
      this._removeAllTiles();
      const tileZoom = this._clampZoom(Math.round(this._map.getZoom()));
      if (tileZoom !== this._tileZoom) {
        this._tileZoom = tileZoom;
        this._updateLevels();
      }
      this._update();
    }
    return this;
  },
});

const CLUSTER_COLOUR = '#37474f';

// The radius grows with the count and always fits its label (up to four characters).
function clusterStyle(count, unfiltered) {
  return {
    fill: true,
    fillColor: unfiltered ? '#ffffff' : CLUSTER_COLOUR,
    fillOpacity: unfiltered ? 0.6 : 0.8,
    color: unfiltered ? CLUSTER_COLOUR : '#ffffff',
    weight: 1.5,
    dashArray: unfiltered ? '3 2' : null,
    radius: Math.max(10, Math.min(18, 6 + 1.6 * Math.log2(count))),
  };
}

// 7, 42, 512, 1.2k / 1,2k, 12k, 120k, 1.2M: at most four characters in the page's language.
function clusterLabel(count) {
  const locale = document.documentElement.lang || undefined;
  const compact = (value, suffix) => `${new Intl.NumberFormat(locale, {
    maximumFractionDigits: value < 10 ? 1 : 0,
  }).format(value)}${suffix}`;
  if (count < 1000) {
    return String(count);
  }
  if (count < 999500) {
    return compact(count / 1000, 'k');
  }
  return compact(count / 1e6, 'M');
}

// The SVG tile renderer, adding each cluster's number on top of its circle (the text lets
// clicks through to the circle).
function labelledTileRenderer(onUnfiltered) {
  return (coords, tileSize, options) => {
    const renderer = L.svg.tile(coords, tileSize, options);
    const addPath = renderer._addPath;
    renderer._addPath = function addPathWithLabel(layer) {
      addPath.call(this, layer);
      const count = layer.properties && layer.properties.cluster_count;
      if (!count || !layer._point) {
        return;
      }
      if (layer.properties.unfiltered) {
        onUnfiltered(coords);
      }
      const text = L.SVG.create('text');
      text.setAttribute('x', layer._point.x);
      text.setAttribute('y', layer._point.y);
      text.setAttribute('class', layer.properties.unfiltered
        ? 'cluster-label cluster-label--unfiltered' : 'cluster-label');
      text.textContent = clusterLabel(count);
      this._rootGroup.appendChild(text);
    };
    return renderer;
  };
}

function siteStyle(colours) {
  return (properties, zoom) => {
    if (properties.cluster_count) {
      return clusterStyle(properties.cluster_count, Boolean(properties.unfiltered));
    }
    const colour = colours[properties.kind] || '#546e7a';
    const reserved = properties.status === 'reserved';
    return {
      fill: true,
      fillColor: colour,
      fillOpacity: reserved ? 0.35 : 0.8,
      color: reserved ? colour : '#ffffff',
      weight: reserved ? 2 : 1.2,
      dashArray: reserved ? '4 3' : null,
      radius: zoom < 10 ? 4 : zoom < 12 ? 5.5 : 7,
    };
  };
}

// A selected site: a dark outline. A hovered one (on the map or in the list): a thicker
// outline in the focus colour, fully opaque, so it stands out among its neighbours.
function selectedStyle(baseStyle) {
  return (properties, zoom) => ({
    ...baseStyle(properties, zoom),
    color: '#111111',
    weight: 3,
    dashArray: null,
  });
}

function hoveredStyle(baseStyle) {
  return (properties, zoom) => ({
    ...baseStyle(properties, zoom),
    color: '#111111',
    weight: 4,
    fillOpacity: 1,
    dashArray: null,
  });
}

// The sites layer with the search's filters, and highlighting by site id. Fires
// `siteselect` (a click on a site), `siteover` and `siteout` with `id`.
export function createSitesLayer(map, config) {
  const colours = Object.fromEntries(config.kinds.map((kind) => [kind.value, kind.colour]));
  const kindLabels = Object.fromEntries(config.kinds.map((kind) => [kind.value, kind.label]));
  const style = siteStyle(colours);
  // Tiles (by key) that show all sites' clusters instead of the search's.
  const unfilteredTiles = new Set();
  const layer = new ClickablePointsProtobuf(config.tiles.sites, {
    pane: 'sitesPane',
    className: 'layer-sites',
    rendererFactory: labelledTileRenderer((coords) => {
      unfilteredTiles.add(`${coords.x}:${coords.y}:${coords.z}`);
    }),
    vectorTileLayerStyles: { sites: style },
    interactive: true,
    getFeatureId: (feature) => feature.properties.id ?? feature.id,
    attribution: config.sitesAttribution || '',
  });

  let selectedId = null;
  let hoveredId = null;
  const restyle = (id) => {
    if (id === null) {
      return;
    }
    if (id === hoveredId) {
      layer.setFeatureStyle(id, hoveredStyle(style));
    } else if (id === selectedId) {
      layer.setFeatureStyle(id, selectedStyle(style));
    } else {
      layer.resetFeatureStyle(id);
    }
  };
  layer.highlight = (id) => {
    const previous = hoveredId;
    hoveredId = id === null || id === undefined ? null : Number(id);
    restyle(previous);
    restyle(hoveredId);
  };
  layer.select = (id) => {
    const previous = selectedId;
    selectedId = id === null || id === undefined || id === '' ? null : Number(id);
    restyle(previous);
    restyle(selectedId);
  };
  // New tiles draw the selected site selected (the override is kept by id).
  let filterQuery = '';
  layer.setFilters = (query) => {
    if (query === filterQuery) {
      return;
    }
    filterQuery = query;
    layer.setUrl(query ? `${config.tiles.sites}?${query}` : config.tiles.sites);
  };

  const status = document.getElementById('map-status');
  const showUnfilteredStatus = () => {
    if (!status) {
      return;
    }
    const shown = [...unfilteredTiles].some((key) => key.endsWith(`:${layer._tileZoom}`));
    if (shown) {
      status.textContent = config.messages.unfilteredClusters;
      status.dataset.reason = 'unfiltered';
      status.hidden = false;
    } else if (status.dataset.reason === 'unfiltered') {
      status.hidden = true;
      delete status.dataset.reason;
    }
  };
  layer.on('tileunload', (event) => {
    unfilteredTiles.delete(`${event.coords.x}:${event.coords.y}:${event.coords.z}`);
  });
  layer.on('load', showUnfilteredStatus);
  map.on('zoomend', showUnfilteredStatus);

  const popup = L.popup({ maxWidth: 320, minWidth: 220, autoPanPadding: [24, 24] });
  const drawing = () => Boolean(map.pm && (map.pm.globalDrawModeEnabled() || map.pm.globalEditModeEnabled()));

  layer.on('mouseover', (event) => {
    const properties = event.layer.properties;
    if (!properties.cluster_count && !drawing()) {
      layer.highlight(properties.id);
      layer.fire('siteover', { id: properties.id });
    }
  });
  layer.on('mouseout', (event) => {
    const properties = event.layer.properties;
    if (!properties.cluster_count) {
      layer.highlight(null);
      layer.fire('siteout', { id: properties.id });
    }
  });
  layer.on('click', (event) => {
    if (drawing()) {
      return; // the click sets a corner of the search area
    }
    const properties = event.layer.properties;
    if (properties.cluster_count) {
      // Several sites share this spot at this zoom: show them apart.
      map.setView(event.latlng, Math.min(map.getZoom() + 2, 12));
      return;
    }
    layer.select(properties.id);
    layer.fire('siteselect', { id: properties.id });
    popup
      .setLatLng(event.latlng)
      .setContent(buildSitePopup(properties, {
        kindLabels, messages: config.messages, siteUrl: config.siteUrl,
      }))
      .openOn(map);
    // Keyboard and screen-reader users land in the popup it opened.
    popup.getElement()?.querySelector('.site-popup__link')?.focus({ preventScroll: true });
  });
  return layer;
}
