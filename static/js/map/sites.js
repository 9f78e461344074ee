// The published sites from vector tiles: grid clusters below zoom 12 (a feature with
// `cluster_count` stands for that many sites; a lone site stays itself), points at zoom 12,
// footprints from 13 on. Drawn as SVG so each site is a DOM element that receives clicks.
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

function clusterStyle(count) {
  return {
    fill: true,
    fillColor: CLUSTER_COLOUR,
    fillOpacity: 0.75,
    color: '#ffffff',
    weight: 1.5,
    radius: Math.min(16, 4 + 2.2 * Math.log2(count)),
  };
}

function siteStyle(colours) {
  return (properties, zoom) => {
    if (properties.cluster_count) {
      return clusterStyle(properties.cluster_count);
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
  const layer = new ClickablePointsProtobuf(config.tiles.sites, {
    pane: 'sitesPane',
    className: 'layer-sites',
    rendererFactory: L.svg.tile,
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
