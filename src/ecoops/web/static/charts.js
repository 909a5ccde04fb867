// Draws the dashboard charts from the page's JSON data block (no inline script: the CSP forbids it).
(function () {
  "use strict";
  var block = document.getElementById("chart-data");
  if (!block || typeof Chart === "undefined") { return; }
  var palette = ["#2563eb", "#16a34a", "#9ca3af", "#f59e0b", "#dc2626"];
  var charts = JSON.parse(block.textContent);
  charts.forEach(function (spec) {
    var canvas = document.querySelector('canvas[data-chart="' + spec.id + '"]');
    if (!canvas) { return; }
    var datasets = spec.datasets.map(function (set, i) {
      var colours = spec.datasets.length === 1 ? spec.labels.map(function (_, j) { return palette[j % palette.length]; }) : palette[i % palette.length];
      return { label: set.label, data: set.data, backgroundColor: colours };
    });
    canvas.chart = new Chart(canvas, {
      type: spec.type,
      data: { labels: spec.labels, datasets: datasets },
      options: { responsive: true, animation: false, plugins: { legend: { display: spec.datasets.length > 1 } } }
    });
  });
  document.documentElement.dataset.chartsDrawn = String(charts.length);
})();
