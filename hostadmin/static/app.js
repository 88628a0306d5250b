/* Every page: behaviour that would otherwise be inline JavaScript (the CSP forbids it).
   Text comes from data attributes, never from JavaScript built by a template. */
(function () {
  "use strict";
  // <form data-confirm="Question?">: ask before submitting.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  });

  // A table that scrolls inside its box (narrow windows) takes keyboard focus, so arrow keys can scroll
  // it even when it holds no link or button; a table that fits is no extra tab stop.
  function markScrollers() {
    document.querySelectorAll("table.data").forEach(function (table) {
      var scrolls = table.scrollWidth > table.clientWidth + 1;
      if (scrolls && !table.hasAttribute("tabindex")) {
        table.setAttribute("tabindex", "0");
        table.dataset.scrollFocus = "";
      } else if (!scrolls && table.dataset.scrollFocus !== undefined) {
        table.removeAttribute("tabindex");
        delete table.dataset.scrollFocus;
      }
    });
  }
  document.addEventListener("DOMContentLoaded", markScrollers);
  if (document.readyState !== "loading") markScrollers();
  window.addEventListener("resize", markScrollers);
  document.addEventListener("htmx:afterSettle", markScrollers);
})();
