// Draws the merchant overview's three charts from the JSON the page embeds with json_script
// (#chart-data) and the translated words of #chart-words; each chart's numbers are also in the
// page as a table. A static file: the site's Content-Security-Policy runs no inline script.
(function () {
  "use strict";
  var source = document.getElementById("chart-data");
  if (!source || typeof Chart === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var words = document.getElementById("chart-words").dataset;
  var rtl = document.documentElement.dir === "rtl";
  var palette = ["#0f766e", "#2563eb", "#d97706", "#9333ea", "#dc2626", "#0891b2"];
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  var common = { responsive: true, maintainAspectRatio: true, aspectRatio: 1.5, animation: false, locale: "en",
                 plugins: { legend: { rtl: rtl, position: "bottom" },
                            tooltip: { rtl: rtl, callbacks: { title: function (items) { return data.dates[items[0].dataIndex]; } } } } };
  var xAxis = { reverse: rtl, ticks: { maxTicksLimit: 8, maxRotation: 0 } };
  var volumeSets = Object.keys(data.volume).map(function (currency, i) {
    return { label: words.volume + " (" + currency + ")", data: data.volume[currency].map(Number),
             backgroundColor: palette[i % palette.length] };
  });
  if (!volumeSets.length) { volumeSets = [{ label: words.volume, data: data.days.map(function () { return 0; }), backgroundColor: palette[0] }]; }
  new Chart(document.getElementById("chart-volume"), { type: "bar",
    data: { labels: data.days, datasets: volumeSets },
    options: Object.assign({}, common, { scales: { x: xAxis, y: { position: rtl ? "right" : "left", beginAtZero: true } } }) });
  var methodCounts = data.methods.counts.length ? data.methods.counts : [1];
  var methodLabels = data.methods.labels.length ? data.methods.labels : ["—"];
  new Chart(document.getElementById("chart-methods"), { type: "doughnut",
    data: { labels: methodLabels, datasets: [{ data: methodCounts,
      backgroundColor: data.methods.counts.length ? palette : ["#e4e7ec"] }] },
    options: common });
  new Chart(document.getElementById("chart-success"), { type: "bar",
    data: { labels: data.days, datasets: [
      { label: words.paid, data: data.paid, backgroundColor: "#067647" },
      { label: words.failed, data: data.failed, backgroundColor: "#b42318" } ] },
    options: Object.assign({}, common, { scales: { x: Object.assign({ stacked: true }, xAxis),
      y: { stacked: true, position: rtl ? "right" : "left", beginAtZero: true, ticks: { precision: 0 } } } }) });
})();
