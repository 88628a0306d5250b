// The month page's charts: Chart.js (vendored) draws what the data-* attributes carry; the tables hold the same numbers.
(function () {
  "use strict";
  function numbers(text) {
    return JSON.parse(text).map(function (value) { return value === null ? null : Number(value); });
  }
  function draw(canvas) {
    if (typeof Chart === "undefined") { return; }
    var line = canvas.dataset.chart === "line";
    new Chart(canvas, {
      type: line ? "line" : "bar",
      data: {
        labels: JSON.parse(canvas.dataset.labels),
        datasets: [
          { label: "Money in", data: numbers(canvas.dataset.in), backgroundColor: "#2e7d4f", borderColor: "#2e7d4f" },
          { label: "Money out", data: numbers(canvas.dataset.out), backgroundColor: "#b3261e", borderColor: "#b3261e" }
        ]
      },
      options: { animation: false, responsive: true, maintainAspectRatio: false }
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("canvas[data-chart]").forEach(draw);
  });
})();
