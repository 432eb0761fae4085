// The schedule pages. The run page draws the Gantt chart from the JSON the server put in the page: one row per
// line, a bar per segment (run, changeover, idle, standby, off) on the site's local date and time, the dearest
// price hours shaded, and the hourly price and carbon under it on the same time axis; a radio switches between
// the energy-aware and the conventional plan. The list page disables its form while a run is being planned.
(function () {
  var TIME_LABELS = { year: "{yyyy}", month: "{yyyy}-{MM}", day: "{MM}-{dd}", hour: "{HH}:{mm}", minute: "{HH}:{mm}",
                      second: "{HH}:{mm}", millisecond: "{HH}:{mm}" };
  var COLOURS = { run: "#2f6fb0", changeover: "#f28e2b", idle: "#e15759", standby: "#c9cfd3", off: "#f1f1f1" };

  // The stored times carry the site's offset; the chart shows them as the site's wall clock, whatever the
  // browser's own time zone, by placing each wall-clock time at the same UTC instant and drawing in UTC.
  function wall(iso) { return Date.parse(iso.slice(0, 16) + ":00Z"); }
  function label(iso) { return iso.slice(0, 16).replace("T", " "); }

  function median(values) {
    var v = values.slice().sort(function (a, b) { return a - b; });
    return v.length ? v[Math.floor(v.length / 2)] : 0;
  }

  function rows(spec, plan) {
    var f = spec.fields, i = {};
    f.forEach(function (name, k) { i[name] = k; });
    return (spec.segments[plan] || []).map(function (s) {
      return { value: [wall(s[i.start]), wall(s[i.end]), s[i.line], spec.states.indexOf(s[i.state]), s[i.kwh],
                       s[i.order], s[i.operation], s[i.start], s[i.end], s[i.state]] };
    });
  }

  function steps(bands) {
    var out = [];
    bands.forEach(function (b) { out.push([wall(b[0]), b[2]]); out.push([wall(b[1]), b[2]]); });
    return out;
  }

  function draw() {
    var data = document.getElementById("schedule-data");
    var el = document.getElementById("schedule-gantt");
    if (!data || !el || !window.echarts) return;
    var spec = JSON.parse(data.textContent), L = spec.labels;
    var rowPx = 30, gantt = Math.max(160, spec.lines.length * rowPx), bandPx = 110;
    el.style.height = (gantt + bandPx + 100) + "px";
    var chart = window.echarts.getInstanceByDom(el) || window.echarts.init(el);
    var prices = spec.bands.price.map(function (b) { return b[2]; }), cut = median(prices);
    var peaks = spec.bands.price.filter(function (b) { return b[2] > cut; })
      .map(function (b) { return [{ xAxis: wall(b[0]) }, { xAxis: wall(b[1]) }]; });

    function render(params, api) {
      var y = api.value(2), start = api.coord([api.value(0), y]), end = api.coord([api.value(1), y]);
      var h = api.size([0, 1])[1] * 0.62, cs = params.coordSys;
      var rect = window.echarts.graphic.clipRectByRect(
        { x: start[0], y: start[1] - h / 2, width: Math.max(1, end[0] - start[0]), height: h },
        { x: cs.x, y: cs.y, width: cs.width, height: cs.height });
      if (!rect) return;
      return { type: "rect", shape: rect, style: { fill: COLOURS[spec.states[api.value(3)]] || "#999", stroke: "#fff", lineWidth: 0.3 } };
    }

    function ganttSeries(plan) {
      return { id: "gantt", name: L.plans[plan], type: "custom", xAxisIndex: 0, yAxisIndex: 0, renderItem: render,
               encode: { x: [0, 1], y: 2 }, clip: true, data: rows(spec, plan),
               markArea: { silent: true, itemStyle: { color: "rgba(253,224,221,0.55)" }, data: peaks } };
    }

    function tooltip(p) {
      if (p.seriesId !== "gantt") return "";
      var v = p.value, lines = [spec.lines[v[2]] + " · " + L.states[v[9]]];
      if (v[5] !== null) lines.push(L.order + " " + v[5] + " · " + L.operation + " " + (v[6] + 1));
      lines.push(L.start + " " + label(v[7]), L.end + " " + label(v[8]), v[4].toLocaleString() + " kWh");
      return lines.map(function (s) { return window.echarts.format.encodeHTML(s); }).join("<br>");
    }

    var top = 20, left = 64;
    chart.setOption({
      animation: false, useUTC: true,
      tooltip: { trigger: "item", formatter: tooltip, confine: true },
      axisPointer: { link: [{ xAxisIndex: "all" }] },
      grid: [{ left: left, right: 56, top: top, height: gantt },
             { left: left, right: 56, top: top + gantt + 60, height: bandPx - 40 }],
      xAxis: [{ type: "time", gridIndex: 0, axisLabel: { hideOverlap: true, formatter: TIME_LABELS } },
              { type: "time", gridIndex: 1, axisLabel: { hideOverlap: true, formatter: TIME_LABELS } }],
      yAxis: [{ type: "category", gridIndex: 0, data: spec.lines, inverse: true, axisTick: { show: false } },
              { type: "value", gridIndex: 1, name: L.price + " " + spec.bands.price_unit, nameTextStyle: { align: "left" },
                scale: true, splitNumber: 2 },
              { type: "value", gridIndex: 1, name: L.carbon + " " + spec.bands.carbon_unit, position: "right",
                nameTextStyle: { align: "right" }, scale: true, splitNumber: 2, splitLine: { show: false } }],
      dataZoom: [{ type: "slider", xAxisIndex: [0, 1], bottom: 8, height: 22, filterMode: "weakFilter" },
                 { type: "inside", xAxisIndex: [0, 1], filterMode: "weakFilter" }],
      series: [ganttSeries(spec.optimised),
               { id: "price", name: L.price, type: "line", xAxisIndex: 1, yAxisIndex: 1, showSymbol: false,
                 data: steps(spec.bands.price), lineStyle: { color: "#b3261e" }, itemStyle: { color: "#b3261e" },
                 areaStyle: { color: "rgba(179,38,30,0.08)" } },
               { id: "carbon", name: L.carbon, type: "line", xAxisIndex: 1, yAxisIndex: 2, showSymbol: false,
                 data: steps(spec.bands.carbon), lineStyle: { color: "#1f7a4d", type: "dashed" },
                 itemStyle: { color: "#1f7a4d" } }]
    });
    el.setAttribute("data-rows", String(spec.lines.length));
    el.setAttribute("data-plan", spec.optimised);
    el.setAttribute("data-ready", "1");

    document.querySelectorAll("#schedule-plan input[name=plan]").forEach(function (input) {
      input.addEventListener("change", function () {
        if (!input.checked) return;
        chart.setOption({ series: [ganttSeries(input.value)] });
        el.setAttribute("data-plan", input.value);
      });
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  function busy() {
    var form = document.getElementById("schedule-upload");
    if (!form) return;
    form.addEventListener("submit", function () {
      var note = document.getElementById("schedule-busy");
      if (note) note.hidden = false;
      form.querySelector("button[type=submit]").disabled = true;
    });
  }

  function start() { draw(); busy(); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
