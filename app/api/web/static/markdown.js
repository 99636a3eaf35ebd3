// A deliberately small Markdown subset for drafted answers, built as DOM nodes (never
// HTML strings), so nothing in an answer can become markup or script.
// Blocks: ``` fences, "- "/"* "/"1. " lists (indented items nest), "|" tables, "#" headings,
// paragraphs.
// Inline: `code`, **bold**, bare http(s) URLs, and [n] citation markers.
import { el, safeHref } from "./http.js";

const INLINE = /(`[^`\n]+`)|(\*\*[^*\n]+\*\*)|(https?:\/\/[^\s<>()]+[^\s<>().,;:!?'"\]])|(\[\d{1,2}\])/g;

function inline(text, sourceCount) {
  const nodes = [];
  let last = 0;
  for (const match of text.matchAll(INLINE)) {
    if (match.index > last) nodes.push(document.createTextNode(text.slice(last, match.index)));
    const [token, code, bold, url, marker] = match;
    if (code) nodes.push(el("code", { text: code.slice(1, -1) }));
    else if (bold) nodes.push(el("strong", {}, ...inline(bold.slice(2, -2), sourceCount)));
    else if (url) {
      const href = safeHref(url);
      nodes.push(href ? el("a", { href, target: "_blank", rel: "noopener noreferrer", text: url }) : document.createTextNode(url));
    } else if (marker) {
      const n = Number(marker.slice(1, -1));
      nodes.push(n >= 1 && n <= sourceCount ? el("a", { href: `#source-${n}`, class: "cite", text: marker }) : document.createTextNode(marker));
    } else nodes.push(document.createTextNode(token));
    last = match.index + token.length;
  }
  if (last < text.length) nodes.push(document.createTextNode(text.slice(last)));
  return nodes;
}

const LIST_ITEM = /^\s*(?:[-*]|\d+[.)])\s+/;
const TABLE_LINE = /^\s*\|/;
const TABLE_RULE = /^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$/;
const indentOf = (line) => line.length - line.trimStart().length;

// A list and the lines that belong to it: items, more-indented items (a nested list inside
// the previous item) and indented continuation text.  Returns the index after the list.
function renderList(lines, start, parent, sourceCount) {
  const indent = indentOf(lines[start]);
  const list = el(/^\s*\d/.test(lines[start]) ? "ol" : "ul");
  let i = start;
  while (i < lines.length) {
    const line = lines[i];
    if (!line.trim()) {
      const next = lines[i + 1] || "";
      if (next.trim() && (indentOf(next) > indent || (LIST_ITEM.test(next) && indentOf(next) === indent))) { i += 1; continue; }
      break;
    }
    const item = list.lastElementChild;
    if (LIST_ITEM.test(line) && indentOf(line) === indent) {
      list.append(el("li", {}, ...inline(line.replace(LIST_ITEM, ""), sourceCount)));
      i += 1;
    } else if (LIST_ITEM.test(line) && indentOf(line) > indent && item) {
      i = renderList(lines, i, item, sourceCount);
    } else if (indentOf(line) > indent && item) {
      item.append(document.createTextNode(" "), ...inline(line.trim(), sourceCount));
      i += 1;
    } else break;
  }
  parent.append(list);
  return i;
}

function renderTable(rows, sourceCount) {
  const cells = (row) => row.trim().replace(/^\|/, "").replace(/\|$/, "").split("|").map((c) => c.trim());
  const table = el("table", { class: "md-table" });
  let body = rows;
  if (rows.length > 1 && TABLE_RULE.test(rows[1])) {
    table.append(el("thead", {}, el("tr", {}, ...cells(rows[0]).map((c) => el("th", {}, ...inline(c, sourceCount))))));
    body = rows.slice(2);
  }
  table.append(el("tbody", {}, ...body.map((row) => el("tr", {}, ...cells(row).map((c) => el("td", {}, ...inline(c, sourceCount)))))));
  return table;
}

export function renderMarkdown(source, { sourceCount = 0 } = {}) {
  const fragment = document.createDocumentFragment();
  const lines = String(source || "").replace(/\r\n?/g, "\n").split("\n");
  let paragraph = [];
  const flush = () => {
    if (paragraph.length) fragment.append(el("p", {}, ...inline(paragraph.join("\n"), sourceCount)));
    paragraph = [];
  };
  for (let i = 0; i < lines.length; i += 1) {
    const line = lines[i];
    if (line.trim().startsWith("```")) {
      flush();
      const language = line.trim().slice(3).trim();
      const body = [];
      for (i += 1; i < lines.length && !lines[i].trim().startsWith("```"); i += 1) body.push(lines[i]);
      fragment.append(el("pre", {}, el("code", { "data-language": language || null, text: body.join("\n") })));
    } else if (LIST_ITEM.test(line)) {
      flush();
      i = renderList(lines, i, fragment, sourceCount) - 1;
    } else if (TABLE_LINE.test(line)) {
      flush();
      const rows = [];
      for (; i < lines.length && TABLE_LINE.test(lines[i]); i += 1) rows.push(lines[i]);
      i -= 1;
      fragment.append(renderTable(rows, sourceCount));
    } else if (/^#{1,6}\s/.test(line)) {
      flush();
      fragment.append(el("p", { class: "md-heading" }, el("strong", {}, ...inline(line.replace(/^#+\s*/, ""), sourceCount))));
    } else if (!line.trim()) {
      flush();
    } else {
      paragraph.push(line);
    }
  }
  flush();
  return fragment;
}

// Quotes are raw passages from the docs: drop emphasis markers rather than show them.
export const plainQuote = (text) => String(text || "").replace(/\*\*|__|`/g, "").trim();
