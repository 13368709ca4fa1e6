// Draw every chart of the page: <div data-chart="ID"> reads the JSON of <script id="ID">.
(function () {
  "use strict";
  function draw() {
    if (!window.Plotly) { return; }
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      var source = document.getElementById(el.dataset.chart);
      if (!source) { return; }
      var figure = JSON.parse(source.textContent);
      window.Plotly.newPlot(el, figure.data, figure.layout, {
        displaylogo: false,
        responsive: true,
        modeBarButtonsToRemove: ["select2d", "lasso2d"],
      });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      if (window.Plotly && el.data) { window.Plotly.Plots.resize(el); }
    });
  });
})();
