/* vts-point-map: draws the points of a map view with Leaflet (ckanext-spatial's
 * base map settings) over the server-drawn SVG dot map. Without Leaflet or
 * without tiles the SVG stays: the page never depends on the network. */
ckan.module("vts-point-map", function ($) {
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
        return L.circleMarker([p[0], p[1]], {radius: 5}).bindTooltip(String(p[2] || ""));
      });
      var group = L.featureGroup(markers).addTo(map);
      map.fitBounds(group.getBounds().pad(0.05));
      this.el.find("svg.vts-dot-map").hide();
    }
  };
});
