// A reliability diagram of draft confidence (GET /v1/calibration): one bar per confidence
// bin, its height the share approved unedited; the dashed diagonal is perfect
// calibration.  Shared by the knowledge-gap page and the stats page.
import { el } from "./http.js";

const SVG = "http://www.w3.org/2000/svg";

function svg(tag, attrs = {}, text = "") {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  if (text) node.textContent = text;
  return node;
}

export function reliabilityChart(table) {
  const size = 200;
  const pad = 24;
  const inner = size - 2 * pad;
  const chart = svg("svg", { viewBox: `0 0 ${size} ${size}`, role: "img", "aria-label": `Reliability of ${table.category} drafts` });
  chart.append(
    svg("line", { class: "axis", x1: pad, y1: size - pad, x2: size - pad, y2: size - pad }),
    svg("line", { class: "axis", x1: pad, y1: pad, x2: pad, y2: size - pad }),
    svg("line", { class: "ideal", x1: pad, y1: size - pad, x2: size - pad, y2: pad }),
    svg("text", { class: "label", x: pad, y: size - 6 }, "0"),
    svg("text", { class: "label", x: size - pad - 16, y: size - 6 }, "conf 1"),
    svg("text", { class: "label", x: 2, y: pad + 4 }, "1"),
  );
  for (const bin of table.bins) {
    const x = pad + bin.low * inner;
    const width = (bin.high - bin.low) * inner - 2;
    const height = bin.observed * inner;
    const bar = svg("rect", { class: "bar", x: x + 1, y: size - pad - height, width, height, "data-n": bin.n });
    bar.append(svg("title", {}, `${bin.low.toFixed(1)}–${bin.high.toFixed(1)}: ${bin.n} drafts, ${(bin.observed * 100).toFixed(0)}% approved unedited`));
    chart.append(bar);
  }
  return chart;
}

export function formatEce(value) {
  return value == null ? "–" : value.toFixed(3);
}

// The diagram with its category and figures, as the knowledge-gap page lists them.
export function reliabilityFigure(table) {
  return el(
    "figure",
    { class: "diagram", "data-category": table.category },
    el("h3", { text: table.category }),
    reliabilityChart(table),
    el("figcaption", { class: "muted small", text: `${table.n} verdicts, ${table.approved_unedited} approved unedited, ECE ${formatEce(table.ece)}` }),
  );
}
