// "Use my location": fill the latitude/longitude pair of the form from the browser's
// position (navigator.geolocation; the site's Permissions-Policy allows it for itself).
// A static file because the Content Security Policy allows no inline script.
(function () {
  "use strict";
  function setup(button) {
    if (!("geolocation" in navigator)) return;
    const form = button.closest("form");
    const status = form.querySelector("[data-geolocate-status]");
    const latitude = form.querySelector('input[name="latitude"]');
    const longitude = form.querySelector('input[name="longitude"]');
    if (!latitude || !longitude) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      if (status) status.textContent = button.dataset.waiting || "正在获取位置……";
      navigator.geolocation.getCurrentPosition(
        function (position) {
          latitude.value = position.coords.latitude.toFixed(4);
          longitude.value = position.coords.longitude.toFixed(4);
          if (status) status.textContent = "已填入您当前的位置。";
        },
        function () {
          if (status) status.textContent = "无法获取位置，请手动填写经纬度或选择区县。";
        },
        { enableHighAccuracy: false, timeout: 10000, maximumAge: 600000 }
      );
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("button[data-geolocate]").forEach(setup);
  });
})();
