// Draws the overview's charts from the JSON the page embeds with json_script; each chart has
// its numbers in a table next to it. Clicking a day opens that day's payments.
(function () {
  "use strict";
  var source = document.getElementById("dashboard-charts");
  if (!source || typeof Chart === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var rtl = document.documentElement.dir === "rtl";
  var palette = ["#0f766e", "#7c3aed", "#c2410c", "#2563eb", "#be123c", "#4d7c0f"];
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;

  // Rotated day labels, thinned out, so the first and last never run off the canvas.
  var X = { reverse: rtl, ticks: { autoSkip: true, maxTicksLimit: 16, maxRotation: 45 } };

  function base(extra) {
    var options = {
      locale: document.documentElement.lang === "ar" ? "ar-SA-u-nu-latn" : "en",
      layout: { padding: { left: 16, right: 16 } },
      plugins: { legend: { rtl: rtl, labels: { boxWidth: 12 } }, tooltip: { rtl: rtl } },
      scales: { x: X, y: { beginAtZero: true, position: rtl ? "right" : "left" } }
    };
    return Object.assign(options, extra || {});
  }

  function counts(id, series, link, labelLength) {
    var canvas = document.getElementById(id);
    if (!canvas) { return; }
    new Chart(canvas, {
      type: "bar",
      data: {
        labels: series.labels.map(function (label) { return label.slice(0, labelLength); }),
        datasets: [
          { label: data.text.attempts, data: series.attempts, backgroundColor: "#99d5cc" },
          { label: data.text.paid, data: series.paid, backgroundColor: "#0f766e" }
        ]
      },
      options: base(link ? {
        onClick: function (event, elements) {
          if (!elements.length) { return; }
          var day = series.labels[elements[0].index];
          var url = new URL(link, window.location.href);
          url.searchParams.set("date_from", day);
          url.searchParams.set("date_to", day);
          window.location.href = url.toString();
        }
      } : {})
    });
  }

  counts("chart-daily", data.daily, document.getElementById("daily-drill").getAttribute("href"), 10);
  counts("chart-monthly", data.monthly, null, 7);

  new Chart(document.getElementById("chart-rates"), {
    type: "bar",
    data: {
      labels: data.rates.labels,
      datasets: [{ label: data.text.rate, data: data.rates.rates, backgroundColor: "#2563eb" }]
    },
    options: base({ scales: { x: X, y: { beginAtZero: true, max: 100, position: rtl ? "right" : "left" } } })
  });

  var currencies = Object.keys(data.revenue.series);
  new Chart(document.getElementById("chart-revenue"), {
    type: "bar",
    data: {
      labels: data.revenue.labels,
      datasets: currencies.map(function (currency, i) {
        return {
          label: currency,
          data: data.revenue.series[currency].map(Number),
          backgroundColor: palette[i % palette.length],
          // One axis per currency: amounts in different currencies are never stacked or summed.
          yAxisID: i === 0 ? "y" : "y" + i
        };
      })
    },
    options: base({
      scales: currencies.reduce(function (scales, currency, i) {
        scales[i === 0 ? "y" : "y" + i] = {
          beginAtZero: true,
          position: (i % 2 === 0) !== rtl ? "left" : "right",
          title: { display: true, text: currency },
          grid: { drawOnChartArea: i === 0 }
        };
        return scales;
      }, { x: X })
    })
  });
})();
