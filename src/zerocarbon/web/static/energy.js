// Draws the energy page's charts from the JSON the server put in the page: the site's kWh per local day
// (a line with a zoom slider, since a year has 365 points) and idle kWh per line, stacked by shift.
(function () {
  function draw() {
    var data = document.getElementById("energy-data");
    if (!data || !window.echarts) return;
    var spec = JSON.parse(data.textContent);
    var charts = [];
    var profile = document.getElementById("energy-profile");
    if (profile && spec.days) {
      var p = window.echarts.getInstanceByDom(profile) || window.echarts.init(profile);
      p.setOption({
        animation: false,
        tooltip: { trigger: "axis" },
        grid: { left: 70, right: 20, top: 30, bottom: 70 },
        xAxis: { type: "category", data: spec.days },
        yAxis: { type: "value", name: spec.unit },
        dataZoom: [{ type: "inside" }, { type: "slider" }],
        series: [{ name: spec.unit, type: "line", data: spec.kwh, showSymbol: spec.days.length < 60 }]
      });
      charts.push(p);
      profile.setAttribute("data-ready", "1");
    }
    var idle = document.getElementById("energy-idle-chart");
    if (idle && spec.lines && spec.lines.length) {
      var c = window.echarts.getInstanceByDom(idle) || window.echarts.init(idle);
      c.setOption({
        animation: false,
        tooltip: { trigger: "axis" },
        legend: { top: 0 },
        grid: { left: 70, right: 20, top: 40, bottom: 30 },
        xAxis: { type: "category", data: spec.lines },
        yAxis: { type: "value", name: "kWh" },
        series: spec.idle.map(function (s) { return { name: s.name, type: "bar", stack: "idle", data: s.data }; })
      });
      charts.push(c);
      idle.setAttribute("data-ready", "1");
    }
    window.addEventListener("resize", function () { charts.forEach(function (x) { x.resize(); }); });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw); else draw();
})();
