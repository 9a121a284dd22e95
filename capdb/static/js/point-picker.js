/*
 * A point picker for a pair of latitude and longitude inputs.
 *
 * Markup: <div data-point-picker data-latitude="ID" data-longitude="ID" hidden>, with an
 * optional data-tile-url and data-borders-url. Clicking the map fills the inputs; typing in
 * them moves the marker. Without a tile URL no other host is asked for anything: the map
 * shows country borders from capdb itself (data-borders-url, finer as one zooms in), a
 * grid of meridians and parallels, and a scale. The form works the same without this
 * script; the map stays hidden then.
 */
(function () {
  "use strict";

  if (typeof window.L === "undefined") {
    return;
  }
  var L = window.L;
  var NUMBER = /^[+-]?(\d+([.,]\d*)?|[.,]\d+)$/;
  var STEPS = [30, 10, 5, 2, 1, 0.5, 0.2, 0.1, 0.05, 0.02, 0.01, 0.005, 0.002, 0.001];
  var GRID = { color: "#8a949e", weight: 1, opacity: 0.6, interactive: false };
  var MARKER = { radius: 7, color: "#a4161a", weight: 2, fillColor: "#a4161a", fillOpacity: 0.5 };
  var BORDERS = { color: "#52606d", weight: 1, fill: false, interactive: false };

  function degrees(input, limit) {
    var text = input.value.trim();
    if (!NUMBER.test(text)) {
      return null;
    }
    var value = Number(text.replace(",", "."));
    return Math.abs(value) <= limit ? value : null;
  }

  function decimals(value) {
    // Five decimals are about a metre: finer than any report of where an attack happened.
    return String(Number(value.toFixed(5)));
  }

  function drawGrid(map, layer) {
    layer.clearLayers();
    var bounds = map.getBounds();
    var span = Math.max(bounds.getEast() - bounds.getWest(), bounds.getNorth() - bounds.getSouth());
    var step = STEPS[STEPS.length - 1];
    for (var i = 0; i < STEPS.length; i += 1) {
      if (span / STEPS[i] >= 4) {
        step = STEPS[i];
        break;
      }
    }
    var south = Math.max(-85, Math.floor(bounds.getSouth() / step) * step);
    var north = Math.min(85, Math.ceil(bounds.getNorth() / step) * step);
    var west = Math.floor(bounds.getWest() / step) * step;
    var east = Math.ceil(bounds.getEast() / step) * step;
    var lines = 0;
    for (var lon = west; lon <= east && lines < 200; lon += step, lines += 1) {
      L.polyline([[south, lon], [north, lon]], GRID).addTo(layer);
    }
    for (var lat = south; lat <= north && lines < 400; lat += step, lines += 1) {
      L.polyline([[lat, west], [lat, east]], GRID).addTo(layer);
    }
  }

  function band(zoom) {
    // The zoom bands of the stored border geometries (maps.map_data).
    return zoom <= 3 ? "low" : zoom <= 7 ? "mid" : "high";
  }

  function showBorders(map, url, layer) {
    var shown = null;
    var pending = null;
    function refresh() {
      var zoom = map.getZoom();
      var wanted = band(zoom);
      if (pending) {
        // A slower answer for an earlier view must not replace what this view shows.
        pending.abort();
        pending = null;
      }
      if (wanted === "low" && shown === "low") {
        return;
      }
      var query = "level=admin0&zoom=" + zoom;
      if (wanted !== "low") {
        var b = map.getBounds();
        query += "&bbox=" + [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]
          .map(function (value) { return value.toFixed(4); }).join(",");
      }
      pending = new AbortController();
      fetch(url + "?" + query, { credentials: "same-origin", signal: pending.signal })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) {
          if (!data) {
            return;
          }
          shown = wanted;
          layer.clearLayers();
          L.geoJSON(data, { style: BORDERS, interactive: false }).addTo(layer);
        })
        .catch(function () { /* borders are a help; the picker works without them */ });
    }
    map.on("moveend", refresh);
  }

  function setUp(element) {
    var latInput = document.getElementById(element.getAttribute("data-latitude"));
    var lonInput = document.getElementById(element.getAttribute("data-longitude"));
    if (!latInput || !lonInput) {
      return;
    }
    element.hidden = false;
    var map = L.map(element, { worldCopyJump: true, minZoom: 1, maxZoom: 18, zoomControl: false });
    // Leaflet's own controls in the page's language (data-zoom-in, data-zoom-out).
    L.control
      .zoom({
        zoomInTitle: element.getAttribute("data-zoom-in") || "Zoom in",
        zoomOutTitle: element.getAttribute("data-zoom-out") || "Zoom out",
      })
      .addTo(map);
    if (map.attributionControl) map.attributionControl.setPrefix(false);
    var tileUrl = element.getAttribute("data-tile-url");
    if (tileUrl) {
      L.tileLayer(tileUrl, { maxZoom: 18 }).addTo(map);
    } else {
      var grid = L.layerGroup().addTo(map);
      map.on("moveend", function () { drawGrid(map, grid); });
      var bordersUrl = element.getAttribute("data-borders-url");
      if (bordersUrl) {
        showBorders(map, bordersUrl, L.layerGroup().addTo(map));
      }
    }
    L.control.scale().addTo(map);

    var marker = null;
    function show(point) {
      if (marker) {
        marker.setLatLng(point);
      } else {
        marker = L.circleMarker(point, MARKER).addTo(map);
      }
    }

    function fromInputs() {
      var lat = degrees(latInput, 90);
      var lon = degrees(lonInput, 180);
      if (lat === null || lon === null) {
        return null;
      }
      var point = L.latLng(lat, lon);
      show(point);
      return point;
    }

    map.on("click", function (event) {
      var point = event.latlng.wrap();
      latInput.value = decimals(point.lat);
      lonInput.value = decimals(point.lng);
      show(point);
      latInput.dispatchEvent(new Event("change", { bubbles: true }));
    });
    [latInput, lonInput].forEach(function (input) {
      input.addEventListener("input", function () {
        var point = fromInputs();
        if (point && !map.getBounds().contains(point)) {
          map.panTo(point);
        }
      });
    });

    var start = fromInputs();
    if (start) {
      map.setView(start, 9);
    } else {
      // Most missions are in Africa and the Middle East.
      map.setView([12, 20], 3);
    }
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-point-picker]"), setUp);
})();
