// The loss plot: the weighted content term, the weighted style term and their total per
// evaluation, on a logarithmic axis, redrawn as they fall. Plain SVG, no library.
import "../numbers.js";   // a classic script: defines globalThis.SiteNumbers, the site's formatter

const {formatEs, power} = globalThis.SiteNumbers;
const NS = "http://www.w3.org/2000/svg";
const SERIES = [   // total last and dashed: it is on top of whichever term dominates
  {key: "content", label: "α · contenido", colour: "#ef8f00"},
  {key: "style", label: "β · estilo", colour: "#00897b"},
  {key: "total", label: "total", colour: "#5e35b1", dash: "6 4"},
];
const W = 640, H = 260, LEFT = 64, RIGHT = 12, TOP = 12, BOTTOM = 34;

function el(name, attrs = {}, text = null) {
  const node = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== null) node.textContent = text;
  return node;
}


export function drawPlot(svg, history) {
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  svg.replaceChildren();
  const points = history.flatMap(h => SERIES.map(s => h[s.key])).filter(v => v > 0 && Number.isFinite(v));
  if (points.length === 0) {
    svg.append(el("text", {x: W / 2, y: H / 2, "text-anchor": "middle", class: "st-live__plot-empty"},
      "La gráfica de las pérdidas aparecerá aquí."));
    return;
  }
  const lo = Math.floor(Math.log10(Math.min(...points)));
  const hi = Math.max(lo + 1, Math.ceil(Math.log10(Math.max(...points))));
  const n = Math.max(2, history.length);
  const x = i => LEFT + (W - LEFT - RIGHT) * (i / (n - 1));
  const y = v => TOP + (H - TOP - BOTTOM) * (1 - (Math.log10(v) - lo) / (hi - lo));
  const step = Math.max(1, Math.ceil((hi - lo) / 6));
  for (let e = lo; e <= hi; e += step) {
    svg.append(el("line", {x1: LEFT, x2: W - RIGHT, y1: y(10 ** e), y2: y(10 ** e), class: "st-live__grid"}));
    svg.append(el("text", {x: LEFT - 6, y: y(10 ** e) + 4, "text-anchor": "end", class: "st-live__tick"}, power(e)));
  }
  svg.append(el("text", {x: (LEFT + W) / 2, y: H - 6, "text-anchor": "middle", class: "st-live__tick"},
    `evaluación (1–${formatEs(history.length, ",d", "text")})`));
  SERIES.forEach((s, k) => {
    const pts = history.map((h, i) => (h[s.key] > 0 ? `${x(i).toFixed(1)},${y(h[s.key]).toFixed(1)}` : null)).filter(Boolean);
    const line = {points: pts.join(" "), fill: "none", stroke: s.colour, "stroke-width": 2};
    if (s.dash) line["stroke-dasharray"] = s.dash;
    if (pts.length) svg.append(el("polyline", line));
    svg.append(el("rect", {x: W - RIGHT - 150, y: TOP + 4 + 16 * k, width: 12, height: 4, fill: s.colour}));
    svg.append(el("text", {x: W - RIGHT - 132, y: TOP + 10 + 16 * k, class: "st-live__tick"}, s.label));
  });
}
