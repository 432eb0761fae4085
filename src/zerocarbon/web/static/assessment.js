// Draws the assessment page's radar of the dimensions (score as a share of each dimension's points) from the JSON
// the server put in the page, once ECharts (deferred) has loaded; redraws when the window is resized.
(function () {
  function draw() {
    var el = document.getElementById("radar"), data = document.getElementById("radar-data");
    if (!el || !data || !window.echarts) return;
    var d = JSON.parse(data.textContent);
    if (!d.names.length) return;
    var chart = window.echarts.getInstanceByDom(el) || window.echarts.init(el);
    chart.setOption({
      animation: false,
      tooltip: {},
      radar: { indicator: d.names.map(function (n, i) { return { name: n, max: d.max[i] || 1 }; }), radius: "65%" },
      series: [{ type: "radar", areaStyle: { opacity: 0.25 },
                 data: [{ value: d.score, name: "", label: { show: true } }] }]
    });
    el.dataset.ready = "1";
    window.addEventListener("resize", function () { chart.resize(); });
  }
  document.addEventListener("DOMContentLoaded", draw);
})();
