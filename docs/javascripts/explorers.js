// Explorers of what the build computed (Generación de la obra): the alpha/beta x style-layers
// grid cell by cell, and the transfer's snapshots with a cursor on its loss curve. Nothing is
// computed here: each explorer reads the JSON the page embeds (macros/explorers.py, from the
// build's manifest), numbers already written the Spanish way, and shows the chosen image and
// numbers. Without JavaScript the explorers stay hidden and the static figures remain.
// A classic script, not a module: the site also opens from the file system, where browsers refuse
// module scripts. Numbers it writes itself go through numbers.js (SiteNumbers), loaded before it.
(function () {
  "use strict";

  var formatEs = window.SiteNumbers.formatEs;
  var power = window.SiteNumbers.power;

  var SVG = "http://www.w3.org/2000/svg";
  var PLOT = {width: 480, height: 260, left: 58, right: 12, top: 12, bottom: 40};
  var SERIES = [  // drawn in this order; the total dashed, as in the static plot
    {key: "style", label: "estilo (β·L)", cls: "st-explorer__line--style"},
    {key: "content", label: "contenido (α·L)", cls: "st-explorer__line--content"},
    {key: "total", label: "total", cls: "st-explorer__line--total"},
  ];

  function data(root) {
    return JSON.parse(root.querySelector(".st-explorer__data").textContent);
  }

  function show(root, what) {
    return root.querySelector('[data-show="' + what + '"]');
  }

  function setImage(img, src) {
    if (img.getAttribute("src") !== src) img.setAttribute("src", src);
  }

  // --- the grid -----------------------------------------------------------------------------

  function initGrid(root) {
    var d = data(root);
    var column = root.querySelector('[data-control="column"]');
    var row = root.querySelector('[data-control="row"]');

    function update() {
      var r = Number(row.value), c = Number(column.value);
      var cell = d.cells[r * d.columns.length + c];
      var rowText = d.rows[r].label, columnText = d.columns[c].label;
      show(root, "row").textContent = rowText;
      show(root, "column").textContent = columnText;
      row.setAttribute("aria-valuetext", rowText);
      column.setAttribute("aria-valuetext", columnText);
      setImage(show(root, "image"), cell.src);
      show(root, "image").setAttribute("alt", "Celda de la rejilla: " + columnText + ", capas de estilo " + rowText);
      show(root, "content").textContent = cell.contentText;
      show(root, "style").textContent = cell.styleText;
      root.dataset.row = r;
      root.dataset.column = c;
      root.dataset.contentLoss = cell.content;
      root.dataset.styleLoss = cell.style;
    }

    column.addEventListener("input", update);
    row.addEventListener("input", update);
    update();
  }

  // --- the animation ------------------------------------------------------------------------

  function el(name, attrs, parent) {
    var e = document.createElementNS(SVG, name);
    Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (parent) parent.appendChild(e);
    return e;
  }

  // Scales of the curve: x linear in evaluations, y logarithmic when the positive losses span
  // more than a decade (else linear). Non-positive values (the content loss of the photo itself)
  // have no place on a log scale and are left out of the lines.
  function scales(curve) {
    var values = [];
    SERIES.forEach(function (s) { curve[s.key].forEach(function (v) { if (v > 0) values.push(v); }); });
    var lo = Math.min.apply(null, values), hi = Math.max.apply(null, values);
    var log = hi / lo > 10;
    var f = log ? Math.log10 : function (v) { return v; };
    var y0 = log ? Math.floor(f(lo)) : 0, y1 = log ? Math.ceil(f(hi)) : hi * 1.05;
    if (y1 === y0) y1 = y0 + 1;
    var ev = curve.evaluation, x0 = ev[0], x1 = Math.max(ev[ev.length - 1], x0 + 1);
    var w = PLOT.width - PLOT.left - PLOT.right, h = PLOT.height - PLOT.top - PLOT.bottom;
    return {
      log: log, y0: y0, y1: y1, x0: x0, x1: x1,
      x: function (e) { return PLOT.left + (e - x0) / (x1 - x0) * w; },
      y: function (v) { return PLOT.top + (1 - (f(v) - y0) / (y1 - y0)) * h; },
    };
  }

  function drawPlot(svg, curve) {
    var sc = scales(curve);
    svg.setAttribute("viewBox", "0 0 " + PLOT.width + " " + PLOT.height);
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    var axes = el("g", {"class": "st-explorer__axes"}, svg);
    var bottom = PLOT.height - PLOT.bottom;
    el("line", {x1: PLOT.left, y1: bottom, x2: PLOT.width - PLOT.right, y2: bottom}, axes);
    el("line", {x1: PLOT.left, y1: PLOT.top, x2: PLOT.left, y2: bottom}, axes);
    if (sc.log) {
      var step = Math.max(1, Math.ceil((sc.y1 - sc.y0) / 6));
      for (var p = sc.y0; p <= sc.y1; p += step) {
        var y = sc.y(Math.pow(10, p));
        el("line", {x1: PLOT.left - 4, y1: y, x2: PLOT.left, y2: y}, axes);
        el("text", {x: PLOT.left - 7, y: y + 4, "text-anchor": "end"}, axes).textContent = power(p);
      }
    }
    [sc.x0, sc.x1].forEach(function (e) {
      el("text", {x: sc.x(e), y: bottom + 16, "text-anchor": "middle"}, axes).textContent = formatEs(e, ",d", "text");
    });
    el("text", {x: PLOT.left + (PLOT.width - PLOT.left - PLOT.right) / 2, y: PLOT.height - 6,
      "text-anchor": "middle"}, axes).textContent = "evaluación";
    SERIES.forEach(function (s, i) {
      var path = "", pen = "M";
      curve[s.key].forEach(function (v, j) {
        if (!(v > 0) && sc.log) { pen = "M"; return; }
        path += pen + sc.x(curve.evaluation[j]).toFixed(1) + " " + sc.y(v).toFixed(1) + " ";
        pen = "L";
      });
      el("path", {d: path, "class": "st-explorer__line " + s.cls}, svg);
      var ly = PLOT.top + 10 + 14 * i, lx = PLOT.width - PLOT.right - 110;
      el("line", {x1: lx, y1: ly - 4, x2: lx + 18, y2: ly - 4, "class": "st-explorer__line " + s.cls}, svg);
      el("text", {x: lx + 22, y: ly, "class": "st-explorer__legend"}, svg).textContent = s.label;
    });
    var cursor = el("g", {"class": "st-explorer__cursor", "data-show": "cursor"}, svg);
    el("line", {y1: PLOT.top, y2: bottom}, cursor);
    el("circle", {r: 4}, cursor);
    return {scales: sc, cursor: cursor};
  }

  function moveCursor(plot, frame) {
    var x = plot.scales.x(frame.measured), y = plot.scales.y(frame.total);
    var line = plot.cursor.querySelector("line"), dot = plot.cursor.querySelector("circle");
    line.setAttribute("x1", x);
    line.setAttribute("x2", x);
    dot.setAttribute("cx", x);
    dot.setAttribute("cy", y);
    plot.cursor.setAttribute("data-evaluation", frame.measured);
  }

  function frameText(frame, d) {
    return frame.evaluation === 0 ? "el lienzo inicial, el que mide la evaluación 1"
      : "evaluación " + formatEs(frame.evaluation, ",d", "text") + " de " + formatEs(d.evaluations, ",d", "text");
  }

  function initAnimation(root) {
    var d = data(root);
    var slider = root.querySelector('[data-control="frame"]');
    var plot = drawPlot(show(root, "plot"), d.curve);

    function update() {
      var i = Number(slider.value), frame = d.frames[i];
      var text = frameText(frame, d);
      show(root, "frame").textContent = text;
      slider.setAttribute("aria-valuetext", text);
      setImage(show(root, "image"), frame.src);
      show(root, "image").setAttribute("alt", "El lienzo en " + text);
      show(root, "content").textContent = frame.contentText;
      show(root, "style").textContent = frame.styleText;
      show(root, "total").textContent = frame.totalText;
      moveCursor(plot, frame);
      root.dataset.frame = i;
      root.dataset.evaluation = frame.evaluation;
      root.dataset.totalLoss = frame.total;
    }

    slider.addEventListener("input", update);
    update();
    document.querySelectorAll('[data-explorer-fallback="animation"]').forEach(function (e) {
      e.classList.add("st-explorer-fallback--replaced");
    });
  }

  // --- start --------------------------------------------------------------------------------

  var KINDS = {grid: initGrid, animation: initAnimation};

  function initAll() {
    document.querySelectorAll("[data-explorer]").forEach(function (root) {
      if (root.dataset.ready) return;
      var init = KINDS[root.dataset.explorer];
      if (!init) return;
      init(root);
      root.dataset.ready = "1";
      root.hidden = false;
    });
  }

  if (typeof document$ !== "undefined") {
    document$.subscribe(initAll);
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", initAll);
  } else {
    initAll();
  }
})();
