/* The incident map: fetches what the current view needs for each layer and draws it.
 *
 * Folium builds the map and its empty layers, then calls capdbMap.attach(). Every text
 * that comes from data is put in the page as text (textContent), never as markup; the
 * only markup used is the popups', which the server escapes.
 */
(function () {
  "use strict";

  var DEBOUNCE_MS = 250;
  var PALETTE = ["#fde0c5", "#facba6", "#f59e72", "#e8603c", "#b7302a"];

  function format(template, count) {
    return template.replace("{count}", String(count));
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function queryString(params) {
    return Object.keys(params)
      .filter(function (key) { return params[key] !== "" && params[key] !== undefined; })
      .map(function (key) {
        return encodeURIComponent(key) + "=" + encodeURIComponent(params[key]);
      })
      .join("&");
  }

  /* One fetch per layer at a time: a newer view cancels the older request. */
  function Loader(url) {
    this.url = url;
    this.controller = null;
  }

  Loader.prototype.load = function (params) {
    if (this.controller) this.controller.abort();
    var controller = new AbortController();
    this.controller = controller;
    var url = this.url + "?" + queryString(params);
    return fetch(url, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
      signal: controller.signal,
    }).then(function (response) {
      if (!response.ok) throw new Error("HTTP " + response.status);
      return response.json();
    }).catch(function (error) {
      if (error.name === "AbortError") return null;
      throw error;
    });
  };

  function viewParams(map) {
    var bounds = map.getBounds();
    var bbox = [bounds.getWest(), bounds.getSouth(), bounds.getEast(), bounds.getNorth()];
    return {
      zoom: map.getZoom(),
      bbox: bbox.map(function (value) { return value.toFixed(4); }).join(","),
    };
  }

  function breaks(values) {
    var sorted = values.slice().sort(function (a, b) { return a - b; });
    var limits = [];
    for (var i = 1; i < PALETTE.length; i++) {
      var value = sorted[Math.floor((i * sorted.length) / PALETTE.length)];
      if (value !== undefined && limits.indexOf(value) === -1) limits.push(value);
    }
    return limits;
  }

  function colour(value, limits) {
    var index = 0;
    while (index < limits.length && value >= limits[index]) index++;
    return PALETTE[Math.min(index + PALETTE.length - 1 - limits.length, PALETTE.length - 1)];
  }

  // Leaflet's own controls speak English: give them the page's language.
  function translateControls(map, strings) {
    if (map.zoomControl) map.zoomControl.remove();
    map.zoomControl = L.control
      .zoom({ zoomInTitle: strings.zoomIn, zoomOutTitle: strings.zoomOut })
      .addTo(map);
    if (map.attributionControl) map.attributionControl.setPrefix(false);
  }

  function attach(map, layers, config) {
    var strings = config.strings;
    var status = document.getElementById(config.statusId);
    translateControls(map, strings);
    var loaders = {};
    Object.keys(config.urls).forEach(function (name) {
      loaders[name] = new Loader(config.urls[name]);
    });
    var bordersBand = null;
    var legend = makeLegend();

    function say(text) {
      if (status) status.textContent = text;
    }

    function failed(error) {
      say(strings.failed);
      if (window.console) window.console.error(error);
    }

    function params(extra) {
      return Object.assign({}, config.filters, viewParams(map), extra || {});
    }

    function band(zoom) {
      return zoom <= 3 ? "low" : zoom <= 7 ? "mid" : "high";
    }

    function refreshBorders() {
      var current = band(map.getZoom());
      // The whole world at the lowest band; closer bands follow the view.
      if (current === "low" && bordersBand === "low") return Promise.resolve();
      var view = viewParams(map);
      // The world at once at the lowest band: one URL, which the browser revalidates.
      var query = current === "low"
        ? { level: "admin0", zoom: view.zoom }
        : { level: "admin0", zoom: view.zoom, bbox: view.bbox };
      return loaders.boundaries.load(query).then(function (data) {
        if (!data) return;
        bordersBand = current;
        layers.borders.clearLayers();
        L.geoJSON(data, {
          interactive: false,
          style: {
            color: "#7b8794",
            weight: 0.8,
            fillColor: "#f3f1ea",
            fillOpacity: config.hasTiles ? 0 : 1,
          },
        }).addTo(layers.borders);
      });
    }

    function clusterMarker(feature) {
      var coordinates = feature.geometry.coordinates;
      var latlng = L.latLng(coordinates[1], coordinates[0]);
      var count = Number(feature.properties.count);
      var size = count < 10 ? "small" : count < 100 ? "medium" : "large";
      if (feature.properties.popup) {
        var point = L.marker(latlng, {
          icon: L.divIcon({ className: "incident-point", iconSize: [14, 14] }),
          title: format(strings.incidents, count),
          keyboard: true,
        });
        return point.bindPopup(feature.properties.popup);
      }
      var icon = L.divIcon({
        className: "incident-cluster incident-cluster-" + size,
        html: String(count),
        iconSize: size === "small" ? [28, 28] : size === "medium" ? [36, 36] : [46, 46],
      });
      var title = format(strings.cluster, count);
      if (feature.properties.fatalities !== undefined) {
        title += " " + format(strings.fatalities, feature.properties.fatalities);
      }
      var marker = L.marker(latlng, { icon: icon, title: title });
      // Leaflet turns Enter on a focused marker into a click.
      marker.on("click", function () {
        map.setView(latlng, Math.min(map.getZoom() + 2, config.maxZoom));
      });
      return marker;
    }

    function refreshClusters() {
      if (!map.hasLayer(layers.clusters)) return Promise.resolve();
      return loaders.clusters.load(params({ measure: config.measure })).then(function (data) {
        if (!data) return;
        layers.clusters.clearLayers();
        data.features.forEach(function (feature) {
          clusterMarker(feature).addTo(layers.clusters);
        });
        say(format(strings.inView, data.total));
      });
    }

    function refreshHeat() {
      if (!map.hasLayer(layers.heat)) return Promise.resolve();
      return loaders.heat.load(params({ measure: config.measure })).then(function (data) {
        if (!data) return;
        // A logarithmic scale, so that one deadly town does not hide every other place.
        var points = data.points.map(function (p) { return [p[0], p[1], Math.log1p(p[2])]; });
        // Leaflet.heat fades points by 2^(zoom - maxZoom); the data is already aggregated
        // for this zoom, so the same factor on the maximum undoes the fading.
        var steps = Math.max(0, Math.min(layers.heat.options.maxZoom - map.getZoom(), 12));
        var fading = 1 / Math.pow(2, steps);
        layers.heat.setOptions({ max: (Math.log1p(data.max) || 1) * fading });
        layers.heat.setLatLngs(points);
      });
    }

    function refreshChoropleth() {
      if (!map.hasLayer(layers.choropleth)) {
        legend.remove();
        return Promise.resolve();
      }
      var measure = config.measure;
      return loaders.choropleth.load(params({ measure: measure })).then(function (data) {
        if (!data) return;
        var values = data.features.map(function (f) { return f.properties[measure]; });
        var limits = breaks(values);
        layers.choropleth.clearLayers();
        L.geoJSON(data, {
          style: function (feature) {
            return {
              color: "#5f4b3a",
              weight: 0.6,
              fillColor: colour(feature.properties[measure], limits),
              fillOpacity: 0.75,
            };
          },
          onEachFeature: function (feature, layer) {
            var tip = element("div");
            tip.appendChild(element("strong", "", feature.properties.name));
            var figures = feature.properties;
            tip.appendChild(element("div", "", format(strings.incidents, figures.incidents)));
            if (figures.fatalities !== undefined) {
              tip.appendChild(element("div", "", format(strings.fatalities, figures.fatalities)));
            }
            layer.bindTooltip(tip, { sticky: true });
          },
        }).addTo(layers.choropleth);
        legend.show(limits, data.unmapped);
      });
    }

    function makeLegend() {
      var control = L.control({ position: "bottomright" });
      var box = element("div", "map-legend");
      control.onAdd = function () { return box; };
      return {
        show: function (limits, unmapped) {
          box.textContent = "";
          box.appendChild(element("strong", "", strings.legend));
          var bounds = [0].concat(limits);
          bounds.forEach(function (lower, index) {
            var row = element("div", "map-legend-row");
            var swatch = element("span", "map-legend-swatch map-legend-" + (index + PALETTE.length - bounds.length));
            row.appendChild(swatch);
            var upper = bounds[index + 1];
            row.appendChild(element("span", "", upper === undefined ? "≥ " + lower : lower + " – " + (upper - 1)));
            box.appendChild(row);
          });
          if (unmapped) box.appendChild(element("div", "map-legend-note", format(strings.unmapped, unmapped)));
          if (!control._map) control.addTo(map);
        },
        remove: function () {
          if (control._map) control.remove();
        },
      };
    }

    var timer = null;
    function refresh() {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () {
        say(strings.loading);
        Promise.all([refreshBorders(), refreshChoropleth(), refreshHeat(), refreshClusters()])
          .then(function () {
            if (!map.hasLayer(layers.clusters)) say("");
          })
          .catch(failed);
      }, DEBOUNCE_MS);
    }

    map.on("moveend overlayadd overlayremove", refresh);
    refresh();
  }

  window.capdbMap = { attach: attach };
})();
