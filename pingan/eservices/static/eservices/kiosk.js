// Self-service kiosk screen (智慧警局): idle warning and reset, keep-alive while the person
// is busy, on-screen keypad, printing. No inline script anywhere (CSP).
(() => {
  "use strict";
  const body = document.body;
  if (!body || !body.classList.contains("kiosk")) return;

  const homeUrl = body.dataset.homeUrl;
  const pingUrl = body.dataset.pingUrl;
  const hasSession = body.dataset.session === "on";
  const idleOn = body.dataset.idle === "on";
  const warnAfter = Number(body.dataset.idleWarning || 60) * 1000;
  const countdown = Number(body.dataset.idleCountdown || 30) * 1000;
  const PING_EVERY = 20000;

  const dialog = document.getElementById("kiosk-idle");
  const counter = dialog ? dialog.querySelector("[data-countdown]") : null;
  const endForm = document.getElementById("kiosk-end");
  let lastActivity = Date.now();
  let lastPing = Date.now();
  let resetting = false;

  const csrfToken = () => {
    const field = document.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  };

  // Back or forward to a page kept in memory: reload it (the session may have ended).
  window.addEventListener("pageshow", (event) => {
    if (event.persisted) window.location.reload();
  });

  const reset = () => {
    if (resetting) return;
    resetting = true;
    if (endForm) {
      const reason = endForm.querySelector("input[name=reason]");
      if (reason) reason.value = "idle";
      endForm.submit();
    } else {
      window.location.replace(homeUrl);
    }
  };

  const ping = () => {
    if (!hasSession || !pingUrl) return;
    lastPing = Date.now();
    fetch(pingUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), "X-Requested-With": "fetch" },
    })
      .then((response) => {
        // The server ended the session (idle too long): show the clean start page.
        if (response.redirected) window.location.replace(response.url);
      })
      .catch(() => {});
  };

  const activity = () => {
    if (resetting) return;
    lastActivity = Date.now();
    if (dialog && !dialog.hidden) dialog.hidden = true;
    if (Date.now() - lastPing > PING_EVERY) ping();
  };
  ["pointerdown", "keydown", "input", "touchstart", "wheel"].forEach((name) =>
    document.addEventListener(name, activity, { passive: true, capture: true }),
  );

  if (idleOn) {
    window.setInterval(() => {
      if (resetting) return;
      const idle = Date.now() - lastActivity;
      if (idle >= warnAfter + countdown) {
        reset();
      } else if (idle >= warnAfter && dialog) {
        dialog.hidden = false;
        if (counter) counter.textContent = String(Math.ceil((warnAfter + countdown - idle) / 1000));
      }
    }, 500);
  }

  document.addEventListener("click", (event) => {
    const keep = event.target.closest("[data-keep-alive]");
    if (keep) {
      if (dialog) dialog.hidden = true;
      ping();
      return;
    }
    if (event.target.closest("[data-print]")) {
      window.print();
      return;
    }
    const key = event.target.closest("[data-key]");
    if (key) {
      const pad = key.closest("[data-keypad]");
      const input = pad ? document.getElementById(pad.dataset.keypad) : null;
      if (!input) return;
      if (key.dataset.key === "back") {
        input.value = input.value.slice(0, -1);
      } else if (!input.maxLength || input.maxLength < 0 || input.value.length < input.maxLength) {
        input.value += key.dataset.key;
      }
      input.dispatchEvent(new Event("input", { bubbles: true }));
      input.focus({ preventScroll: true });
    }
  });

  // One submission per form: a double tap must not send the application twice.
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (form.dataset.submitted === "1") {
      event.preventDefault();
      return;
    }
    form.dataset.submitted = "1";
  });
})();
