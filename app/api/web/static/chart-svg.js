// Plain SVG for the stats page's charts (no chart library, no CDN).  Every value
// reaches the page through textContent or SVG attributes, never as markup.
const SVG = "http://www.w3.org/2000/svg";

export function svg(width, height) {
  const root = document.createElementNS(SVG, "svg");
  root.setAttribute("viewBox", `0 0 ${width} ${height}`);
  root.setAttribute("aria-hidden", "true");
  return root;
}

export function shape(parent, name, attributes, text) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  parent.appendChild(node);
  return node;
}

export function place(id, chart) {
  document.getElementById(id).replaceChildren(chart);
}

export function empty(id, message) {
  const chart = svg(400, 60);
  shape(chart, "text", { x: 200, y: 34, "text-anchor": "middle", class: "empty" }, message);
  place(id, chart);
}
