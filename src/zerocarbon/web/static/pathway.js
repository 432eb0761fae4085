// The pathway pages. Draws, from the JSON the server put in the page: the MACC (one rectangle per measure, its
// width the tonnes a year it abates, its height the cost per tonne, hatched when it uses illustrative figures),
// the pathway (what remains of Scope 1+2 per year with each measure's abatement stacked on it, business as
// usual and the targets), and on the comparison page each run's Scope 1+2 per year.
(function () {
  var PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
                 "#9c755f", "#bab0ac", "#1f77b4", "#aec7e8", "#ffbb78", "#98df8a", "#c5b0d5"];

  function chart(id) {
    var node = document.getElementById(id);
    if (!node || !window.echarts) return null;
    var c = window.echarts.init(node);
    window.addEventListener("resize", function () { c.resize(); });
    return { c: c, node: node };
  }

  function macc(spec) {
    var h = chart("chart-macc");
    if (!h || !spec.macc.length) return;
    var x = 0, data = spec.macc.map(function (e, i) {
      var row = [x, x + e.abatement_t, e.cost_per_t, e.label, e.illustrative.length, i];
      x += e.abatement_t;
      return row;
    });
    h.c.setOption({
      animation: false,
      tooltip: { formatter: function (p) {
        var v = p.value;
        return v[3] + "<br>" + Math.round(v[1] - v[0]).toLocaleString() + " " + spec.words.tonnes + "<br>" +
          v[2].toFixed(1) + " " + spec.currency + "/t" + (v[4] ? "<br>* " + spec.words.illustrative : "");
      } },
      grid: { left: 80, right: 20, top: 20, bottom: 50 },
      xAxis: { type: "value", name: spec.words.tonnes, nameLocation: "middle", nameGap: 30, max: x },
      yAxis: { type: "value", name: spec.currency + "/t" },
      series: [{ type: "custom", encode: { x: [0, 1], y: 2 }, data: data, renderItem: function (params, api) {
        var a = api.coord([api.value(0), api.value(2)]), b = api.coord([api.value(1), 0]);
        var colour = PALETTE[api.value(5) % PALETTE.length];
        return { type: "rect", shape: { x: a[0], y: Math.min(a[1], b[1]), width: Math.max(b[0] - a[0], 1),
                                        height: Math.abs(b[1] - a[1]) },
                 style: { fill: colour, stroke: "#333", lineWidth: 0.5,
                          decal: api.value(4) ? { symbol: "rect", dashArrayX: [1, 0], dashArrayY: [2, 4], rotation: 0.8 } : null } };
      } }]
    });
    h.node.setAttribute("data-ready", "1");
  }

  function pathway(spec) {
    var h = chart("chart-pathway");
    if (!h) return;
    var series = [{ name: spec.words.remaining, type: "bar", stack: "s", data: spec.plan, itemStyle: { color: "#bbbbbb" } }];
    Object.keys(spec.by_measure).forEach(function (name, i) {
      series.push({ name: name, type: "bar", stack: "s", data: spec.by_measure[name],
                    itemStyle: { color: PALETTE[i % PALETTE.length] } });
    });
    series.push({ name: spec.words.bau, type: "line", data: spec.bau, itemStyle: { color: "#000" } });
    series.push({ name: spec.words.target, type: "scatter", symbol: "rect", symbolSize: [30, 4],
                  itemStyle: { color: "#d62728" },
                  data: spec.years.map(function (y) { var v = spec.targets[String(y)]; return v === undefined ? null : v; }) });
    h.c.setOption({ animation: false, tooltip: { trigger: "axis" }, legend: { type: "scroll", top: 0 },
                    grid: { left: 80, right: 20, top: 50, bottom: 30 },
                    xAxis: { type: "category", data: spec.years }, yAxis: { type: "value", name: spec.words.scope12 },
                    series: series });
    h.node.setAttribute("data-ready", "1");
  }

  function compare(spec) {
    var h = chart("chart-compare");
    if (!h) return;
    h.c.setOption({ animation: false, tooltip: { trigger: "axis" }, legend: { top: 0 },
                    grid: { left: 80, right: 20, top: 40, bottom: 30 },
                    xAxis: { type: "category", data: spec.years }, yAxis: { type: "value", name: spec.words.scope12 },
                    series: Object.keys(spec.series).map(function (name) {
                      return { name: name, type: "line", data: spec.series[name] };
                    }) });
    h.node.setAttribute("data-ready", "1");
  }

  document.addEventListener("DOMContentLoaded", function () {
    var el = document.getElementById("pathway-data");
    var spec = el ? JSON.parse(el.textContent) : null;
    if (spec) { macc(spec); pathway(spec); }
    var cmp = document.getElementById("pathway-compare-data");
    if (cmp) compare(JSON.parse(cmp.textContent));
  });
})();
