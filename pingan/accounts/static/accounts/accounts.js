// Refusals of an htmx request (403: may not reveal; 404: not found) come back as a partial
// that explains why: swap it in instead of dropping it (htmx ignores 4xx by default).
document.addEventListener("htmx:beforeSwap", (event) => {
  const status = event.detail.xhr.status;
  if ((status === 403 || status === 404) && event.detail.requestConfig.elt.closest("#identity")) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});
