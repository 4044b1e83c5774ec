/* VitalGate charts: progressive enhancement over the server-rendered page (uPlot, vendored). */
(function () {
  "use strict";
  var el = document.getElementById("chart-data");
  if (!el || typeof uPlot === "undefined") return;
  var data = JSON.parse(el.textContent);
  var tz = data.tz || "UTC";
  var tzDate = function (ts) { return uPlot.tzDate(new Date(ts * 1e3), tz); };
  var charts = [];
  // Glucose comes in the viewer's unit with its references (the server converts); words in the page's language.
  var g = data.glucose_ref || { very_low: 54, low: 70, high: 180, very_high: 250, y_min: 40, y_max: 300 };
  var unit = data.unit || "mg/dL";
  var words = data.labels || {};
  function word(key, fallback) { return words[key] || fallback; }

  // Horizontal band or lines drawn under the series, in data units of the y scale.
  function band(lo, hi, fill) {
    return function (u) {
      var ctx = u.ctx, b = u.bbox;
      var y1 = u.valToPos(hi, "y", true), y2 = u.valToPos(lo, "y", true);
      ctx.save(); ctx.fillStyle = fill;
      ctx.fillRect(b.left, Math.max(b.top, y1), b.width, Math.min(b.top + b.height, y2) - Math.max(b.top, y1));
      ctx.restore();
    };
  }
  function refLine(value, color, dash) {
    return function (u) {
      if (value === null || value === undefined) return;  // a target without this level (pregnancy: no level-2 high)
      var ctx = u.ctx, b = u.bbox, y = Math.round(u.valToPos(value, "y", true)) + 0.5;
      if (y < b.top || y > b.top + b.height) return;
      ctx.save(); ctx.strokeStyle = color; ctx.lineWidth = 1.5 * devicePixelRatio; ctx.setLineDash(dash);
      ctx.beginPath(); ctx.moveTo(b.left, y); ctx.lineTo(b.left + b.width, y); ctx.stroke(); ctx.restore();
    };
  }
  function size(node) { return { width: Math.max(280, node.clientWidth), height: 260 }; }
  function pts(color) { return { show: true, size: 5, stroke: color, fill: color }; }
  var xTime = { time: true, range: function () { return [data.since, data.until]; } };

  function glucose(node) {
    var s = size(node);
    return new uPlot({
      width: s.width, height: s.height, tzDate: tzDate, legend: { live: false },
      scales: { x: xTime, y: { range: function (u, min, max) { return [Math.min(g.y_min, min || g.y_min), Math.max(g.y_max, max || g.y_max)]; } } },
      series: [{}, { label: word("glucose", "Glucose (" + unit + ")"), stroke: "#2563eb", width: 1, points: pts("#2563eb"), spanGaps: false },
        { label: word("lowest", "lowest"), stroke: "rgba(185,28,28,0.55)", width: 1, points: { show: false } },
        { label: word("highest", "highest"), stroke: "rgba(180,83,9,0.45)", width: 1, points: { show: false } }],
      axes: [{}, { label: unit }],
      hooks: { drawClear: [band(g.low, g.high, "rgba(34,197,94,0.14)")], draw: [refLine(g.very_low, "#dc2626", [4, 4]), refLine(g.very_high, "#d97706", [4, 4])] },
    }, data.glucose, node);
  }

  function bp(node) {
    var s = size(node);
    return new uPlot({
      width: s.width, height: s.height, tzDate: tzDate, legend: { live: false },
      scales: { x: xTime, y: { range: function (u, min, max) { return [Math.min(50, min || 50), Math.max(200, max || 200)]; } } },
      series: [{},
        { label: word("systolic", "Systolic (mmHg)"), stroke: "#b91c1c", width: 1.5, points: pts("#b91c1c") },
        { label: word("diastolic", "Diastolic (mmHg)"), stroke: "#1d4ed8", width: 1.5, points: pts("#1d4ed8") },
        { label: word("pulse", "Pulse (/min)"), stroke: "#6b7280", width: 1, dash: [3, 3], points: { show: false } }],
      axes: [{}, { label: "mmHg" }],
      hooks: { draw: [refLine(130, "#d97706", [6, 4]), refLine(80, "#d97706", [6, 4]), refLine(180, "#dc2626", [2, 3]), refLine(120, "#dc2626", [2, 3])] },
    }, data.bp, node);
  }

  function profile(node) {
    var s = size(node);
    var blue = "rgba(37,99,235,";
    return new uPlot({
      width: s.width, height: s.height, legend: { live: false },
      scales: { x: { time: false, range: [0, 23] }, y: { range: function (u, min, max) { return [Math.min(g.y_min, min || g.y_min), Math.max(g.y_max, max || g.y_max)]; } } },
      series: [{ label: word("hour", "Hour") },
        { label: "5 %", stroke: blue + "0.35)", width: 1, dash: [3, 3] },
        { label: "25 %", stroke: blue + "0.6)", width: 1 },
        { label: word("median", "Median"), stroke: "#1e3a8a", width: 2.5 },
        { label: "75 %", stroke: blue + "0.6)", width: 1 },
        { label: "95 %", stroke: blue + "0.35)", width: 1, dash: [3, 3] }],
      bands: [{ series: [5, 1], fill: blue + "0.08)" }, { series: [4, 2], fill: blue + "0.22)" }],
      axes: [{ label: word("hour_axis", "hour of day"), splits: function () { return [0, 3, 6, 9, 12, 15, 18, 21, 23]; },
               values: function (u, ticks) { return ticks.map(function (t) { return (t < 10 ? "0" : "") + t + ":00"; }); } },
             { label: unit }],
      hooks: { drawClear: [band(g.low, g.high, "rgba(34,197,94,0.14)")] },
    }, data.profile, node);
  }

  var makers = { glucose: glucose, bp: bp, profile: profile };
  document.querySelectorAll("[data-chart]").forEach(function (node) {
    var make = makers[node.getAttribute("data-chart")];
    if (make) { charts.push([node, make(node)]); node.classList.add("drawn"); }
  });
  window.addEventListener("resize", function () {
    charts.forEach(function (c) { c[1].setSize(size(c[0])); });
  });
})();
