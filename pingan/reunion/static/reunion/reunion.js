// 团圆 forms: the place picker works without map tiles (offline-friendly). Choosing a
// county fills latitude and longitude with its seat's coordinates (carried on the option),
// unless the officer or family typed their own; "use my position" asks the browser.
(() => {
  const field = (id) => document.getElementById(id);

  document.addEventListener("change", (event) => {
    const select = event.target.closest("select[data-county-picker]");
    if (!select) return;
    const option = select.selectedOptions[0];
    const lat = field(select.dataset.latField);
    const lon = field(select.dataset.lonField);
    if (!option || !lat || !lon || !option.dataset.lat) return;
    const typed = (lat.value && lat.dataset.filled !== "county") || (lon.value && lon.dataset.filled !== "county");
    if (typed) return;
    lat.value = option.dataset.lat;
    lon.value = option.dataset.lon;
    lat.dataset.filled = "county";
    lon.dataset.filled = "county";
  });

  document.addEventListener("input", (event) => {
    if (event.target.dataset && event.target.dataset.filled === "county") delete event.target.dataset.filled;
  });

  // The map picker: a click on the drawing sets the coordinates (same projection as maps.py).
  const moveMarker = (svg, lat, lon) => {
    const marker = svg.querySelector(".map-marker");
    const box = svg.viewBox.baseVal;
    const [south, north, west, east] = ["south", "north", "west", "east"].map((k) => Number(svg.dataset[k]));
    if (!marker || !(lat >= south && lat <= north && lon >= west && lon <= east)) return;
    marker.setAttribute("cx", (((lon - west) / (east - west)) * box.width).toFixed(1));
    marker.setAttribute("cy", (((north - lat) / (north - south)) * box.height).toFixed(1));
  };

  document.addEventListener("click", (event) => {
    const svg = event.target.closest("svg[data-map-picker]");
    if (!svg) return;
    const point = svg.createSVGPoint();
    point.x = event.clientX;
    point.y = event.clientY;
    const at = point.matrixTransform(svg.getScreenCTM().inverse());
    const box = svg.viewBox.baseVal;
    const [south, north, west, east] = ["south", "north", "west", "east"].map((k) => Number(svg.dataset[k]));
    const lat = north - (at.y / box.height) * (north - south);
    const lon = west + (at.x / box.width) * (east - west);
    const latField = field(svg.dataset.latField);
    const lonField = field(svg.dataset.lonField);
    if (!latField || !lonField) return;
    latField.value = lat.toFixed(6);
    lonField.value = lon.toFixed(6);
    delete latField.dataset.filled;
    delete lonField.dataset.filled;
    moveMarker(svg, lat, lon);
  });

  // Typed or county-filled coordinates move the marker too.
  const follow = () => {
    document.querySelectorAll("svg[data-map-picker]").forEach((svg) => {
      const lat = Number((field(svg.dataset.latField) || {}).value);
      const lon = Number((field(svg.dataset.lonField) || {}).value);
      moveMarker(svg, lat, lon);
    });
  };
  document.addEventListener("input", follow);
  document.addEventListener("change", follow);

  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-locate]");
    if (!button || !navigator.geolocation) return;
    navigator.geolocation.getCurrentPosition((position) => {
      field(button.dataset.latField).value = position.coords.latitude.toFixed(6);
      field(button.dataset.lonField).value = position.coords.longitude.toFixed(6);
    });
  });
})();
