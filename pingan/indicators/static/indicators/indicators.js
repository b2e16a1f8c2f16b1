// A refused picker (400: a period that cannot be read) still shows its message in place:
// htmx does not swap error responses unless told to, and only this panel is told to.
document.addEventListener("htmx:beforeSwap", (event) => {
  const target = event.detail.target;
  if (event.detail.xhr.status === 400 && target && target.closest("[data-indicators]")) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});
