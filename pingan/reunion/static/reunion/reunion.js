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

  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-locate]");
    if (!button || !navigator.geolocation) return;
    navigator.geolocation.getCurrentPosition((position) => {
      field(button.dataset.latField).value = position.coords.latitude.toFixed(6);
      field(button.dataset.lonField).value = position.coords.longitude.toFixed(6);
    });
  });
})();
