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

// A handed-off question: pages the search found, offered as reading, never as the answer.
function renderRelated(pages) {
  const list = $("related");
  list.replaceChildren();
  for (const page of pages) {
    const href = safeHref(page.url);
    if (!href) continue;
    list.append(el("li", {}, el("a", { href, target: "_blank", rel: "noopener noreferrer", text: citationLabel(page) })));
  }
  $("related-block").hidden = list.children.length === 0;
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
  showContact(handedOff ? data.conversation_url : null);
  const citations = Array.isArray(data.citations) ? data.citations : [];
  $("answer").replaceChildren(renderMarkdown(data.answer, { sourceCount: citations.length }));
  $("answer").hidden = !data.answer;
  renderSources(citations);
  renderRelated(handedOff && Array.isArray(data.related) ? data.related : []);
  showFeedback(handedOff ? null : data.answer_id);
  $("result").hidden = false;
  $("result").dataset.handedOff = String(handedOff);
}

// --- "did this help?" on an answer shown ---------------------------------------------
let answerId = null;

function showFeedback(id) {
  answerId = id || null;
  $("feedback").hidden = !answerId;
  $("feedback-status").textContent = "";
  for (const button of [$("feedback-yes"), $("feedback-no")]) button.setAttribute("aria-pressed", "false");
}

async function giveFeedback(helpful) {
  if (!answerId) return;
  const chosen = helpful ? $("feedback-yes") : $("feedback-no");
  const buttons = [$("feedback-yes"), $("feedback-no")];
  for (const button of buttons) button.disabled = true;
  try {
    await requestJson(`/v1/ask/${encodeURIComponent(answerId)}/feedback`, { method: "POST", body: { helpful } });
    for (const button of buttons) button.setAttribute("aria-pressed", String(button === chosen));
    $("feedback-status").textContent = helpful ? t.feedbackThanks : t.feedbackSorry;
  } catch (error) {
    $("feedback-status").textContent = describeError(error);
  } finally {
    for (const button of buttons) button.disabled = false;
  }
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
    const body = identity ? { question, contact: identity } : { question };
    const asker = askerId();
    if (asker) body.asker = asker;
    renderResult(await requestJson("/v1/ask", { method: "POST", body }));
    $("result-heading").focus();
  } catch (error) {
    showError(describeError(error));
  } finally {
    button.disabled = false;
    $("ask-progress").textContent = "";
  }
}

// --- reaching the developer ------------------------------------------------------
// The embedding site may pass who is asking (?email=…&name=…, or data-user-email /
// data-user-name on the page's <html>): then the page does not ask for an email.
function pageIdentity() {
  const params = new URLSearchParams(location.search);
  const data = document.documentElement.dataset;
  const email = (params.get("email") || data.userEmail || "").trim();
  const name = (params.get("name") || data.userName || "").trim();
  if (!email) return null;
  return name ? { email, name } : { email };
}

const identity = pageIdentity();

// A random id per browser, so the service can tell whether someone it answered opened a
// ticket afterwards (deflection); the server keeps only a keyed hash of it.
function askerId() {
  try {
    let id = window.localStorage.getItem("triage.asker");
    if (!id) {
      const bytes = new Uint8Array(16);
      window.crypto.getRandomValues(bytes);
      id = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
      window.localStorage.setItem("triage.asker", id);
    }
    return id;
  } catch {
    return null; // storage blocked: the answer is not attributed
  }
}
const conversationMatch = /^\/help\/c\/([A-Za-z0-9_-]+)\/?$/.exec(location.pathname);
let conversationUrl = conversationMatch ? location.pathname : null;

function conversationApi(suffix = "") {
  const token = conversationUrl.split("/").pop();
  return `/v1/conversations/${encodeURIComponent(token)}${suffix}`;
}

function showFieldError(id, message) {
  $(id).textContent = message;
  $(id).hidden = !message;
}

function showCurrentContact(masked) {
  $("contact-current").hidden = !masked;
  $("contact-current").textContent = masked ? t.emailCurrent.replace("{email}", masked) : "";
}

function showContact(url) {
  conversationUrl = url || conversationUrl;
  const card = $("contact-card");
  card.hidden = !url;
  if (!url) return;
  const link = $("conversation-link");
  link.href = url;
  link.textContent = new URL(url, location.origin).href;
  $("link-line").hidden = false;
  $("contact-saved").textContent = "";
  showFieldError("contact-error", "");
  // The embedding site already said who is asking: the reply goes there.
  $("contact-form").hidden = Boolean(identity);
  showCurrentContact(identity ? identity.email : null);
}

async function saveContact(event) {
  event.preventDefault();
  const input = $("contact-email");
  const email = input.value.trim();
  if (!email || !input.checkValidity()) {
    showFieldError("contact-error", t.emailInvalid);
    input.focus();
    return;
  }
  showFieldError("contact-error", "");
  $("contact-btn").disabled = true;
  try {
    const data = await requestJson(conversationApi("/contact"), { method: "PUT", body: { email } });
    $("contact-saved").textContent = t.emailSaved.replace("{email}", data.contact.email || email);
    showCurrentContact(data.contact.email);
    $("contact-card").dataset.saved = "true";
  } catch (error) {
    const invalid = error instanceof ApiError && error.status === 422;
    showFieldError("contact-error", invalid ? t.emailInvalid : describeError(error));
  } finally {
    $("contact-btn").disabled = false;
  }
}

function renderConversation(data) {
  const statusText = { open: t.statusOpen, answered: t.statusAnswered, solved: t.statusSolved };
  $("conversation-status").textContent = statusText[data.status] || "";
  $("conversation").dataset.status = data.status;
  const list = $("messages");
  list.replaceChildren();
  for (const m of data.messages) {
    const agent = m.author === "agent";
    const body = agent ? renderMarkdown(m.text, { sourceCount: 0 }) : el("div", { class: "customer-text", text: m.text });
    const when = new Date(m.created_at);
    const who = `${agent ? t.support : t.you} · ${when.toLocaleString(lang)}`;
    list.append(el("li", { class: agent ? "from-agent" : "from-customer", "data-author": m.author }, el("span", { class: "who", text: who }), body));
  }
  $("followup-form").hidden = false;
  $("contact-card").hidden = false;
  $("link-line").hidden = true;
  showCurrentContact(data.contact.email);
}

async function loadConversation() {
  $("conversation").hidden = false;
  document.querySelector("section[aria-labelledby='help-heading']").hidden = true;
  try {
    renderConversation(await requestJson(conversationApi()));
  } catch (error) {
    const missing = error instanceof ApiError && (error.status === 404 || error.status === 422);
    showFieldError("conversation-error", missing ? t.conversationMissing : describeError(error));
  }
}

async function followUp(event) {
  event.preventDefault();
  const text = $("followup").value.trim();
  if (!text) {
    showFieldError("followup-error", t.empty);
    $("followup").focus();
    return;
  }
  showFieldError("followup-error", "");
  $("followup-btn").disabled = true;
  $("followup-progress").textContent = t.sending;
  try {
    renderConversation(await requestJson(conversationApi("/messages"), { method: "POST", body: { text } }));
    $("followup").value = "";
  } catch (error) {
    showFieldError("followup-error", describeError(error));
  } finally {
    $("followup-btn").disabled = false;
    $("followup-progress").textContent = "";
  }
}

localise();
$("ask-form").addEventListener("submit", ask);
$("question").addEventListener("keydown", (e) => {
  if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) $("ask-form").requestSubmit();
});
$("contact-form").addEventListener("submit", saveContact);
$("feedback-yes").addEventListener("click", () => giveFeedback(true));
$("feedback-no").addEventListener("click", () => giveFeedback(false));
$("followup-form").addEventListener("submit", followUp);
if (conversationMatch) loadConversation();
