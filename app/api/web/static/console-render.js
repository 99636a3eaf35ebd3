// DOM builders for the console.  Every value from the API goes in as text (never as
// HTML), so a message containing markup is shown, not run.
import { citationLabel, el, safeHref } from "./http.js";

const dateFmt = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

export function formatDate(value) {
  if (!value) return "";
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? String(value) : dateFmt.format(date);
}

export function formatAge(value) {
  const then = new Date(value).getTime();
  if (Number.isNaN(then)) return "";
  const minutes = Math.max(0, Math.round((Date.now() - then) / 60000));
  if (minutes < 1) return "just now";
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  return hours < 48 ? `${hours} h ago` : `${Math.round(hours / 24)} d ago`;
}

export const percent = (value) => (typeof value === "number" ? `${Math.round(value * 100)}%` : "—");

// Current routing lives on the ticket (escalation changes it); `triage` keeps the
// classifier's original call.
export function routing(ticket) {
  const triage = ticket.triage || {};
  return {
    category: ticket.category ?? triage.category ?? "",
    priority: ticket.priority ?? triage.priority ?? "",
    team: ticket.team ?? triage.team ?? "",
  };
}

export function pill(text, extra = "") {
  return el("span", { class: `pill ${extra}`.trim(), text });
}

// The pipeline's hand-off codes (app/triage/draft/handoff.py), said for a person.
const HANDOFF_REASONS = {
  prompt_injection: "the message tries to steer the assistant (possible prompt injection).",
  security_exposure: "a secret was pasted or this is a security matter; make sure the credential is rotated.",
  incident: "this looks like an outage report; incident communication is owned by the team.",
  account_specific: "it is about one specific payment or account, which the documentation cannot answer.",
  insufficient_documentation: "the documentation does not clearly cover this question.",
  unsupported_claims: "sentences no cited passage supports",
  unverified_claims: "some sentences could not be checked against the cited passages",
  unknown_api_names: "names not in the API spec (check before sending)",
};

// A reason may join several "code" or "code: detail" parts with "; " (the LLM drafter's
// checks); only the code is put into words, the detail (API names) stays verbatim.
export function handoffText(reason) {
  if (!reason) return "the drafter was not confident enough to answer.";
  if (HANDOFF_REASONS[reason]) return HANDOFF_REASONS[reason];
  return String(reason)
    .split("; ")
    .map((part) => {
      const at = part.indexOf(": ");
      const code = at < 0 ? part : part.slice(0, at);
      const words = HANDOFF_REASONS[code] || code.replaceAll("_", " ");
      return at < 0 ? words : `${words}: ${part.slice(at + 2)}`;
    })
    .join("; ");
}

export function queueItem(ticket, index) {
  const r = routing(ticket);
  const row = el(
    "span",
    { class: "row" },
    pill(r.priority || "P?", `pill-${r.priority}`),
    pill(r.category || "uncategorised"),
    el("span", { class: "when", text: formatAge(ticket.created_at) }),
  );
  const snippet = el("span", { class: "snippet", text: (ticket.message || "").slice(0, 240) });
  const where = [r.team, ticket.channel && `via ${ticket.channel}`].filter(Boolean).join(" · ");
  const button = el(
    "button",
    { type: "button", class: "queue-item", "data-ticket-id": ticket.id, "data-index": index },
    row,
    snippet,
    where ? el("span", { class: "where", text: where }) : null,
  );
  button.setAttribute("aria-label", `${r.priority} ${r.category}: ${(ticket.message || "").slice(0, 80)}`);
  return el("li", {}, button);
}

function kvRows(target, rows) {
  target.replaceChildren();
  for (const [label, value] of rows) {
    if (value == null || value === "" || (Array.isArray(value) && value.length === 0)) continue;
    const dd = el("dd");
    if (value instanceof Node) dd.append(value);
    else dd.textContent = Array.isArray(value) ? value.join(", ") : String(value);
    target.append(el("dt", { text: label }), dd);
  }
  if (!target.childElementCount) target.append(el("dt", { text: "—" }), el("dd", { class: "muted", text: "nothing detected" }));
}

export function renderTriage(target, ticket) {
  const triage = ticket.triage || {};
  const r = routing(ticket);
  const flags = Array.isArray(triage.flags) && triage.flags.length
    ? el("span", {}, ...triage.flags.map((f) => pill(f, "pill-flag")))
    : "none";
  kvRows(target, [
    ["Category", r.category],
    ["Priority", r.priority],
    ["Team", r.team],
    ["Language", triage.language],
    ["Confidence", percent(triage.confidence)],
    ["Sentiment", triage.sentiment],
    ["Flags", flags],
    ["Why this priority", triage.priority_reasons],
    ["Classifier", triage.classifier],
  ]);
}

export function renderSignals(target, signals = {}) {
  const endpoints = (signals.endpoints || []).map((e) => `${e.method || ""} ${e.path || e.template || ""}`.trim());
  kvRows(target, [
    ["HTTP statuses", signals.http_statuses],
    ["Error codes", signals.error_codes],
    ["Unknown codes", signals.unknown_error_codes],
    ["Endpoints", endpoints],
    ["Request ids", signals.request_ids],
    ["Idempotency keys", signals.idempotency_keys],
    ["API version", signals.api_version],
    ["SDK", signals.sdk],
    ["Language", signals.programming_language],
    ["Environment", signals.environment],
    ["Money stuck", signals.mentions_money_stuck ? "yes" : null],
    ["Outage", signals.mentions_outage ? "yes" : null],
  ]);
}

export function renderCitations(target, citations = []) {
  target.replaceChildren();
  if (!citations.length) {
    target.append(el("li", { class: "muted", text: "No sources cited." }));
    return;
  }
  for (const c of citations) {
    const label = citationLabel(c);
    const href = safeHref(c.url);
    const name = href
      ? el("a", { href, target: "_blank", rel: "noopener noreferrer", text: label })
      : el("span", { text: label });
    const path = c.source || c.doc_id;
    target.append(
      el(
        "li",
        {},
        name,
        path ? el("span", { class: "muted small path", text: ` ${path}` }) : null,
        c.quote ? el("span", { class: "quote", text: `“${c.quote}”` }) : null,
      ),
    );
  }
}

function auditStatus(entry) {
  if (!entry.from_status && !entry.to_status) return "";
  return `${entry.from_status || "·"} → ${entry.to_status || "·"}`;
}

export function renderAudit(target, entries) {
  target.replaceChildren();
  if (!entries.length) {
    target.append(el("tr", {}, el("td", { colspan: 5, class: "muted", text: "No history yet." })));
    return;
  }
  for (const entry of entries) {
    const detail = entry.detail && Object.keys(entry.detail).length ? JSON.stringify(entry.detail) : "";
    target.append(
      el(
        "tr",
        { "data-action": entry.action },
        el("td", { text: formatDate(entry.created_at || entry.at) }),
        el("td", { text: entry.actor || "" }),
        el("td", { text: entry.action || "" }),
        el("td", { text: auditStatus(entry) }),
        el("td", { class: "detail", text: detail }),
      ),
    );
  }
}
