// The self-service help page: one question in, a grounded answer (or a hand-off) out.
import { ApiError, citationLabel, el, requestJson, safeHref } from "./http.js";
import { pickLanguage, strings } from "./help-i18n.js";
import { plainQuote, renderMarkdown } from "./markdown.js";

const $ = (id) => document.getElementById(id);
const lang = pickLanguage();
const t = strings(lang);

function localise() {
  document.documentElement.lang = lang;
  document.title = t.title;
  for (const node of document.querySelectorAll("[data-i18n]")) {
    const text = t[node.dataset.i18n];
    if (text) node.textContent = text;
  }
}

function showError(message) {
  $("ask-error").textContent = message;
  $("ask-error").hidden = !message;
}

function describeError(error) {
  if (!(error instanceof ApiError)) return `${t.failed} ${error.message || error}`;
  if (error.status === 0) return t.network;
  if (error.status === 429) {
    const seconds = Number.parseInt(error.extra.retryAfter || "", 10);
    return Number.isFinite(seconds) && seconds > 0 ? t.rateLimitedSeconds.replace("{s}", String(seconds)) : t.rateLimited;
  }
  if (error.status === 400 || error.status === 413 || error.status === 422) return `${t.invalid} ${error.detail}`;
  return `${t.failed} ${error.detail || error.title}`;
}

function renderSources(citations) {
  const list = $("sources");
  list.replaceChildren();
  citations.forEach((c, index) => {
    const label = citationLabel(c);
    const href = safeHref(c.url);
    const name = href
      ? el("a", { href, target: "_blank", rel: "noopener noreferrer", text: label })
      : el("span", { text: label });
    const quote = plainQuote(c.quote);
    list.append(el("li", { id: `source-${index + 1}` }, name, quote ? el("span", { class: "quote", text: `“${quote}”` }) : null));
  });
  $("sources-block").hidden = citations.length === 0;
}

function renderResult(data) {
  const handedOff = Boolean(data.handed_off);
  const handoff = $("handoff");
  handoff.hidden = !handedOff;
  handoff.replaceChildren();
  if (handedOff) {
    handoff.append(t.handedOff);
    if (data.ticket_id) {
      handoff.append(" ", t.ticketRef, " ", el("span", { class: "ticket-ref", id: "ticket-ref", text: data.ticket_id }));
    }
  }
  const citations = Array.isArray(data.citations) ? data.citations : [];
  $("answer").replaceChildren(renderMarkdown(data.answer, { sourceCount: citations.length }));
  $("answer").hidden = !data.answer;
  renderSources(citations);
  $("result").hidden = false;
  $("result").dataset.handedOff = String(handedOff);
}

async function ask(event) {
  event.preventDefault();
  const question = $("question").value.trim();
  if (!question) {
    showError(t.empty);
    $("question").focus();
    return;
  }
  showError("");
  const button = $("ask-btn");
  button.disabled = true;
  $("ask-progress").textContent = t.asking;
  try {
    renderResult(await requestJson("/v1/ask", { method: "POST", body: { question } }));
    $("result-heading").focus();
  } catch (error) {
    showError(describeError(error));
  } finally {
    button.disabled = false;
    $("ask-progress").textContent = "";
  }
}

localise();
$("ask-form").addEventListener("submit", ask);
$("question").addEventListener("keydown", (e) => {
  if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) $("ask-form").requestSubmit();
});
