/* vts-point-map: draws the points of a map view with Leaflet (ckanext-spatial's
 * base map settings) over the server-drawn SVG dot map. Without Leaflet or
 * without tiles the SVG stays: the page never depends on the network.
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

  return {
    options: {points: [], mapConfig: {}},
    initialize: function () {
      if (typeof L === "undefined" || !ckan.commonLeafletMap || !this.options.points.length) {
        return;
      }
      var container = $('<div class="vts-leaflet" style="height: 420px"></div>');
      this.el.prepend(container);
      var map = ckan.commonLeafletMap(container[0], this.options.mapConfig);
      var markers = this.options.points.map(function (p) {
        return L.circleMarker([p[0], p[1]], {radius: 5}).bindTooltip(tooltip(p[2]));
      });
      var group = L.featureGroup(markers).addTo(map);
      map.fitBounds(group.getBounds().pad(0.05));
      this.el.find("svg.vts-dot-map").hide();
    }
  };
});
