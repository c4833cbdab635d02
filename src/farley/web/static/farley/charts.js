// Charts of the forecast and the analyses (Chart.js). No inline scripts: every
// <canvas data-chart="ID"> gets its data from the JSON in <script id="ID"
// type="application/json"> (Django's json_script), shaped like
//   {type: "bar", labels: [...], datasets: [{label, data, type?}], currency?, unit?,
//    integer?, horizontal?, locale}
// Money is formatted with the page's currency and the user's locale.
(function () {
  "use strict";

  const PALETTE = ["#198754", "#1f4e79", "#6ea8fe", "#adb5bd", "#dc3545", "#fd7e14", "#6f42c1", "#20c997"];

  function formatter(spec) {
    const locale = spec.locale || document.documentElement.lang || "en";
    if (spec.currency) {
      return new Intl.NumberFormat(locale, { style: "currency", currency: spec.currency, maximumFractionDigits: 0 });
    }
    return new Intl.NumberFormat(locale, { maximumFractionDigits: spec.integer ? 0 : 1 });
  }

  function render(canvas) {
    const source = document.getElementById(canvas.getAttribute("data-chart"));
    if (!source || !window.Chart || canvas.getAttribute("data-rendered")) return;
    const spec = JSON.parse(source.textContent);
    const numbers = formatter(spec);
    const format = function (value) {
      const text = numbers.format(value);
      return spec.unit ? text + " " + spec.unit : text;
    };
    const valueAxis = spec.horizontal ? "x" : "y";
    const datasets = spec.datasets.map(function (set, i) {
      const colour = set.type === "line" ? "#dc3545" : PALETTE[i % PALETTE.length];
      return {
        type: set.type || undefined,
        label: set.label,
        data: set.data,
        backgroundColor: colour,
        borderColor: colour,
        borderWidth: set.type === "line" ? 2 : 0,
        pointRadius: set.type === "line" ? 3 : undefined,
        order: set.type === "line" ? 0 : 1,
      };
    });
    const scales = {};
    scales[valueAxis] = {
      beginAtZero: true,
      ticks: { callback: function (value) { return format(value); }, precision: spec.integer ? 0 : undefined },
    };
    const chart = new window.Chart(canvas, {
      type: spec.type || "bar",
      data: { labels: spec.labels, datasets: datasets },
      options: {
        indexAxis: spec.horizontal ? "y" : "x",
        responsive: true,
        maintainAspectRatio: true,
        aspectRatio: spec.horizontal ? 1.6 : 2.6,
        animation: false,
        scales: scales,
        plugins: {
          legend: { display: datasets.length > 1 },
          tooltip: {
            callbacks: {
              label: function (item) {
                const value = spec.horizontal ? item.parsed.x : item.parsed.y;
                return item.dataset.label + ": " + (value === null ? "–" : format(value));
              },
            },
          },
        },
      },
    });
    canvas.setAttribute("data-rendered", "1");
    canvas.chart = chart;
  }

  // The custom range: typing a date chooses "Custom range"; another period clears the dates.
  function periodForm(form) {
    const period = form.querySelector("select[name=period]");
    const dates = form.querySelectorAll("[data-custom-range]");
    if (!period) return;
    dates.forEach(function (input) {
      input.addEventListener("change", function () {
        if (input.value) period.value = "custom";
      });
    });
    period.addEventListener("change", function () {
      if (period.value !== "custom") dates.forEach(function (input) { input.value = ""; });
    });
  }

  function start() {
    document.querySelectorAll("canvas[data-chart]").forEach(render);
    document.querySelectorAll("form[data-period-form]").forEach(periodForm);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
