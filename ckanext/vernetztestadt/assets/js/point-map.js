/* vts-point-map: draws the points of a map view with Leaflet over the
 * server-drawn SVG dot map, only where the site has set a tile provider
 * (ckanext-spatial's ckanext.spatial.common_map.* settings). The SVG map stays
 * visible until the first tile has actually loaded; without a provider,
 * without Leaflet or without network it stays for good: the page never
 * depends on another host, and no notice about a missing provider is shown.
 *
 * Point names are data (uploads, third-party sources): they are inserted as
 * text nodes only, never as HTML (a string given to Leaflet's bindTooltip
 * would become innerHTML). */
ckan.module("vts-point-map", function ($) {
  /* The tooltip of a point: its name as text. */
  function tooltip(label) {
    var node = document.createElement("span");
    node.textContent = label === null || label === undefined ? "" : String(label);
    return node;
  }

  /* The map's tile layer (commonLeafletMap adds at most one). */
  function tileLayer(map) {
    var found = null;
    map.eachLayer(function (layer) {
      if (layer instanceof L.TileLayer) {
        found = layer;
      }
    });
    return found;
  }

  return {
    options: {points: [], mapConfig: {}},
    initialize: function () {
      var config = this.options.mapConfig || {};
      if (typeof L === "undefined" || !ckan.commonLeafletMap || !config.type ||
          !this.options.points.length) {
        return;
      }
      var svg = this.el.find("svg.vts-dot-map");
      // laid out (Leaflet needs a size) but invisible until a tile has loaded
      var container = $('<div class="vts-leaflet" aria-hidden="true"></div>');
      this.el.prepend(container);
      var map = ckan.commonLeafletMap(container[0], config);
      var markers = this.options.points.map(function (p) {
        return L.circleMarker([p[0], p[1]], {radius: 5}).bindTooltip(tooltip(p[2]));
      });
      var group = L.featureGroup(markers).addTo(map);
      map.fitBounds(group.getBounds().pad(0.05));
      // like the drawn map: a metric scale, so that the dots' spacing means something
      L.control.scale({imperial: false}).addTo(map);
      var tiles = tileLayer(map);
      if (!tiles) {
        container.remove();
        return;
      }
      tiles.once("tileload", function () {
        container.addClass("vts-leaflet-shown").removeAttr("aria-hidden");
        svg.hide();
        map.invalidateSize();
      });
    }
  };
});
