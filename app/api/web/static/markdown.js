// A deliberately small Markdown subset for drafted answers, built as DOM nodes (never
// HTML strings), so nothing in an answer can become markup or script.
// Blocks: ``` fences, "- "/"* "/"1. " lists, "#" headings, paragraphs.
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
      const ordered = /^\s*\d/.test(line);
      const list = el(ordered ? "ol" : "ul");
      for (; i < lines.length && LIST_ITEM.test(lines[i]); i += 1) {
        list.append(el("li", {}, ...inline(lines[i].replace(LIST_ITEM, ""), sourceCount)));
      }
      i -= 1;
      fragment.append(list);
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
