// Draws the overview's bar chart from the JSON the server put in the page; redraws when the page is resized.
(function () {
  function draw() {
    var holder = document.getElementById("chart");
    var data = document.getElementById("chart-data");
    if (!holder || !data || !window.echarts) return;
    var spec = JSON.parse(data.textContent);
    if (!spec.sites) return;
    var chart = window.echarts.getInstanceByDom(holder) || window.echarts.init(holder);
    chart.setOption({
      animation: false,
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 60, right: 20, top: 40, bottom: 30 },
      xAxis: { type: "category", data: spec.sites },
      yAxis: { type: "value", name: spec.unit },
      series: spec.series.map(function (s) { return { name: s.name, type: "bar", data: s.data }; })
    });
    window.addEventListener("resize", function () { chart.resize(); });
    holder.setAttribute("data-ready", "1");
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw); else draw();
})();
