// Draws the Scope 3 page's bar chart (categories, stacked by calculation method) from the JSON the server put in
// the page; a category without data keeps an empty bar labelled "no data". Redraws when the page is resized.
(function () {
  function draw() {
    var holder = document.getElementById("scope3-chart");
    var data = document.getElementById("scope3-chart-data");
    if (!holder || !data || !window.echarts) return;
    var spec = JSON.parse(data.textContent);
    if (!spec.categories) return;
    var chart = window.echarts.getInstanceByDom(holder) || window.echarts.init(holder);
    var series = spec.series.map(function (s) {
      return { name: s.name, type: "bar", stack: "scope3", data: s.data, emphasis: { focus: "series" } };
    });
    // An invisible series carries the "no data" label of each category without rows (never a zero bar).
    series.push({
      name: spec.nodata_label, type: "bar", stack: "scope3", silent: true, itemStyle: { color: "transparent" },
      data: spec.nodata.map(function (none) { return none ? 0 : null; }),
      label: { show: true, position: "top", color: "#8a5a00", formatter: spec.nodata_label }
    });
    chart.setOption({
      animation: false,
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { top: 0, data: spec.series.map(function (s) { return s.name; }) },
      grid: { left: 60, right: 20, top: 40, bottom: 90 },
      xAxis: { type: "category", data: spec.categories, axisLabel: { interval: 0, rotate: 30 } },
      yAxis: { type: "value", name: spec.unit },
      series: series
    });
    chart.on("click", function (p) {
      var key = spec.keys[p.dataIndex];
      if (key) window.location.href = "?year=" + encodeURIComponent(new URLSearchParams(window.location.search).get("year") || "") + "&category=" + key + "#scope3-rows";
    });
    window.addEventListener("resize", function () { chart.resize(); });
    holder.setAttribute("data-ready", "1");
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw); else draw();
})();
