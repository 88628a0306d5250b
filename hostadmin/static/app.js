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
})();
