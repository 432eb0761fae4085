// Draws the energy page's charts from the JSON the server put in the page: the site's kWh per local day and
// its interval load profile (lines with a zoom slider, since a year has 365 days and a month 2,976 quarter
// hours; base and peak load as dashed lines), idle kWh per line stacked by shift, and the energy-flow Sankey.
(function () {
  function draw() {
    var data = document.getElementById("energy-data");
    if (!data || !window.echarts) return;
    var spec = JSON.parse(data.textContent);
    var words = spec.words || {};
    // thousands separators; no decimals from 100 up, as the page's tables show numbers
    function fmt(v, decimals) {
      if (v === null || v === undefined) return "–";
      var d = decimals === undefined ? (Math.abs(v) >= 100 ? 0 : Math.abs(v) >= 1 ? 1 : 2) : decimals;
      return Number(v).toLocaleString("en-US", { minimumFractionDigits: d, maximumFractionDigits: d });
    }
    var charts = [];
    function chart(el) {
      var c = window.echarts.getInstanceByDom(el) || window.echarts.init(el);
      charts.push(c);
      return c;
    }
    var profile = document.getElementById("energy-profile");
    if (profile && spec.days) {
      chart(profile).setOption({
        animation: false,
        tooltip: { trigger: "axis" },
        grid: { left: 70, right: 20, top: 30, bottom: 70 },
        xAxis: { type: "category", data: spec.days },
        yAxis: { type: "value", name: spec.unit },
        dataZoom: [{ type: "inside" }, { type: "slider" }],
        series: [{ name: spec.unit, type: "line", data: spec.kwh, showSymbol: spec.days.length < 60 }]
      });
      profile.setAttribute("data-ready", "1");
    }
    var interval = document.getElementById("energy-interval");
    var p = spec.profile;
    if (interval && p && p.stamps) {
      chart(interval).setOption({
        animation: false,
        tooltip: { trigger: "axis" },
        grid: { left: 70, right: 100, top: 30, bottom: 70 },
        xAxis: { type: "category", data: p.stamps.map(function (s) { return s.slice(0, 16).replace("T", " "); }) },
        yAxis: { type: "value", name: "kW" },
        dataZoom: [{ type: "inside" }, { type: "slider" }],
        series: [{
          name: "kW", type: "line", data: p.kw, showSymbol: false, connectNulls: false,
          markLine: {
            symbol: "none", silent: true, lineStyle: { type: "dashed" },
            data: [{ name: "base", yAxis: p.base_kw, label: { formatter: words.base + " " + fmt(p.base_kw, 1) + " kW" } },
                   { name: "peak", yAxis: p.peak_kw, label: { formatter: words.peak + " " + fmt(p.peak_kw, 1) + " kW" } }]
          }
        }]
      });
      interval.setAttribute("data-ready", "1");
    }
    var idle = document.getElementById("energy-idle-chart");
    if (idle && spec.lines && spec.lines.length) {
      chart(idle).setOption({
        animation: false,
        tooltip: { trigger: "axis" },
        legend: { top: 0 },
        grid: { left: 70, right: 20, top: 40, bottom: 30 },
        xAxis: { type: "category", data: spec.lines },
        yAxis: { type: "value", name: "kWh" },
        series: spec.idle.map(function (s) { return { name: s.name, type: "bar", stack: "idle", data: s.data }; })
      });
      idle.setAttribute("data-ready", "1");
    }
    var flows = document.getElementById("energy-flows");
    var f = spec.flows;
    if (flows && f && f.nodes.length) {
      var names = {};
      // unmetered rest and the supplies (grid import, generation, export) are named in the page's language
      f.nodes.forEach(function (n) { names[n.id] = words[n.level] || n.name; });
      var unit = f.unit;
      chart(flows).setOption({
        animation: false,
        tooltip: {
          trigger: "item",
          formatter: function (x) {
            var v = fmt(x.value);
            if (x.dataType === "edge") return names[x.data.source] + " → " + names[x.data.target] + ": " + v + " " + unit;
            return names[x.name] + ": " + v + " " + unit;
          }
        },
        series: [{
          type: "sankey", left: 10, right: 120, top: 10, bottom: 10, nodeAlign: "left", draggable: false,
          emphasis: { focus: "adjacency" },
          lineStyle: { color: "gradient", curveness: 0.5 },
          label: { formatter: function (x) { return names[x.name]; } },
          // a zero flow has no width to draw; its node is still listed in the table under the chart
          data: f.nodes.filter(function (n) { return n.value > 0; }).map(function (n) {
            var color = { unmetered: "#bbb", "import": "#5470c6", generation: "#f5b800", "export": "#91cc75" }[n.level];
            return { name: n.id, value: n.value, itemStyle: color ? { color: color } : undefined };
          }),
          links: f.links.filter(function (l) { return l.value > 0; })
        }]
      });
      flows.setAttribute("data-ready", "1");
    }
    window.addEventListener("resize", function () { charts.forEach(function (x) { x.resize(); }); });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw); else draw();
})();
