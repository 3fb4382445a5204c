// Draw each canvas[data-source] from the page's #metrics-data with Chart.js.
"use strict";

(function () {
  const data = JSON.parse(document.getElementById("metrics-data").textContent);
  const COLOURS = { Sends: "#79aec8", Deliveries: "#417690", Sent: "#417690", Failed: "#ba2121", Launches: "#e5a50a", Conversions: "#5b8c3a" };

  for (const canvas of document.querySelectorAll("canvas[data-source]")) {
    const source = data[canvas.dataset.source];
    const datasets = Object.entries(source.series).map(([label, values]) => ({
      label,
      data: values,
      borderColor: COLOURS[label],
      backgroundColor: COLOURS[label],
      tension: 0.2,
    }));
    new Chart(canvas, {
      type: canvas.dataset.kind,
      data: { labels: source.labels, datasets },
      options: {
        animation: false,
        maintainAspectRatio: false,
        scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
      },
    });
  }
})();
