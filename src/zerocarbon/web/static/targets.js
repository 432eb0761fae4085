// Draws one chart per target on the targets page from the JSON the server put beside it: the linear trajectory
// from base year to target year (dashed), the actual values of the years with an inventory (green on track,
// red off track) and the target value (a star). Redraws when the page is resized.
(function () {
  function draw() {
    if (!window.echarts) return;
    document.querySelectorAll("script.target-chart-data").forEach(function (data) {
      var holder = document.getElementById(data.getAttribute("data-for"));
      if (!holder) return;
      var spec = JSON.parse(data.textContent);
      var chart = window.echarts.getInstanceByDom(holder) || window.echarts.init(holder);
      chart.setOption({
        animation: false,
        tooltip: { trigger: "item" },
        legend: { top: 0, data: [spec.names.trajectory, spec.names.actual, spec.names.target] },
        grid: { left: 70, right: 20, top: 40, bottom: 30 },
        xAxis: { type: "value", min: "dataMin", max: "dataMax", minInterval: 1,
                 axisLabel: { formatter: function (v) { return String(v); } } },
        yAxis: { type: "value", name: spec.unit, scale: false },
        series: [
          { name: spec.names.trajectory, type: "line", data: spec.trajectory, symbol: "none",
            lineStyle: { type: "dashed", color: "#555" } },
          { name: spec.names.actual, type: "scatter", symbolSize: 12, itemStyle: { color: "#2ca02c" },
            data: spec.actual.map(function (p) {
              return { value: [p[0], p[1]], itemStyle: { color: p[2] ? "#2ca02c" : "#d62728" } };
            }) },
          { name: spec.names.target, type: "scatter", symbol: "pin", symbolSize: 30, data: [spec.target],
            itemStyle: { color: "#1f77b4" } }
        ]
      });
      window.addEventListener("resize", function () { chart.resize(); });
      holder.setAttribute("data-ready", "1");
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw); else draw();
})();
