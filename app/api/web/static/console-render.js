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
  insufficient_documentation: "no documentation passage found is closely related to the question.",
  low_confidence: "the drafted answer was unlikely to answer (below the confidence floor); the sections found are listed.",
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

const timeFmt = new Intl.DateTimeFormat(undefined, { dateStyle: "short", timeStyle: "short" });

// The SLA's next due time on a queue row: "due <time>", "breached" or "paused".
export function slaBadge(sla) {
  if (!sla) return null;
  const due = sla.next_due ? new Date(sla.next_due) : null;
  const when = due && !Number.isNaN(due.getTime()) ? timeFmt.format(due) : "";
  let text = when ? `due ${when}` : "no SLA clock running";
  let state = "ok";
  if (sla.paused) { text = "SLA paused"; state = "paused"; }
  if (sla.breached) { text = when ? `breached · was due ${when}` : "SLA breached"; state = "breached"; }
  return el("span", { class: `sla sla-${state}`, "data-sla": state, "data-due": sla.next_due || "", text });
}

export function queueItem(ticket, index) {
  const r = routing(ticket);
  const row = el(
    "span",
    { class: "row" },
    pill(r.priority || "P?", `pill-${r.priority}`),
    pill(r.category || "uncategorised"),
    ticket.status && ticket.status !== "pending_review" ? pill(ticket.status.replace("_", " "), "pill-status") : null,
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
    el("span", { class: "row-foot" }, slaBadge(ticket.sla), ticket.assignee ? el("span", { class: "assignee", text: `@${ticket.assignee}` }) : null),
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

// What the LLM drafter's checks found: each line is something the reviewer verifies
// before approving (and each blocks sending without a person).
export function checkLines(checks) {
  if (!checks) return [];
  return [
    ...(checks.unsupported_sentences || []).map((s) => `Removed, no cited passage supports it: “${s}”`),
    ...(checks.unverifiable_sentences || []).map((s) => `Not verified against the sources: “${s}”`),
    ...(checks.unknown_api_names || []).map((n) => `Not in the API spec: ${n}`),
    ...(checks.rejected ? [`Model answer dropped: ${String(checks.rejected).replaceAll("_", " ")}`] : []),
  ];
}

export function renderChecks(box, target, checks) {
  const lines = checkLines(checks);
  box.hidden = !lines.length;
  target.replaceChildren(...lines.map((line) => el("li", { text: line })));
}

export function renderCitations(target, citations = []) {
  target.replaceChildren();
  if (!citations.length) {
    target.append(el("li", { class: "muted", text: "No sources cited." }));
    return;
  }
  for (const [index, c] of citations.entries()) {
    const label = citationLabel(c);
    const href = safeHref(c.url);
    const name = href
      ? el("a", { href, target: "_blank", rel: "noopener noreferrer", text: label })
      : el("span", { text: label });
    const path = c.source || c.doc_id;
    target.append(
      el(
        "li",
        { id: `source-${index + 1}` },
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

const words = (code) => {
  const text = String(code || "").replaceAll("_", " ").trim();
  return text ? text.charAt(0).toUpperCase() + text.slice(1) : "";
};

function plainValue(value) {
  if (value == null || value === "") return "—";
  if (Array.isArray(value)) return value.map(plainValue).join(", ");
  if (typeof value === "object") return Object.entries(value).map(([k, v]) => `${words(k).toLowerCase()} ${plainValue(v)}`).join(", ");
  if (typeof value === "boolean") return value ? "yes" : "no";
  return String(value);
}

// An audit detail as "label: value" lines a person can read, never raw JSON.
export function auditDetail(detail) {
  if (!detail || typeof detail !== "object") return null;
  const entries = Object.entries(detail);
  if (!entries.length) return null;
  return el("dl", { class: "audit-detail" }, ...entries.flatMap(([k, v]) => [el("dt", { text: words(k) }), el("dd", { text: plainValue(v) })]));
}

// One conversation entry: customer message, agent reply, internal note or system event.
export function conversationEntry(message) {
  const kind = message.internal ? "note" : message.author === "system" ? "event" : message.author;
  const who = { customer: "Customer", agent: "Reply", note: "Internal note", event: "Event" }[kind] || words(kind);
  const head = el(
    "header",
    { class: "entry-head" },
    el("strong", { text: who }),
    message.author_name ? el("span", { class: "muted", title: message.author_name, text: ` ${actorName(message.author_name)}` }) : null,
    el("time", { class: "muted small", datetime: message.created_at || "", text: ` · ${formatDate(message.created_at)}` }),
    message.internal ? pill("internal · never sent", "pill-internal") : null,
  );
  return el(
    "li",
    { class: `entry entry-${kind}`, "data-kind": kind, "data-id": message.id || "" },
    head,
    kind === "event"
      ? el("p", { class: "event-text", text: message.text || words(message.event) })
      : el("div", { class: "entry-text", text: message.text || "" }),
  );
}

// Drafts are not messages: they join the conversation by time, so the agent sees which
// draft answered which follow-up.
export function draftEntry(draft) {
  // Collapsed: the pending draft is in the editor below; older ones are history.
  const summary = el(
    "summary",
    { class: "entry-head" },
    el("strong", { text: `Draft v${draft.version ?? 1}` }),
    el("span", { class: "muted", text: ` ${draft.status || ""}` }),
    el("time", { class: "muted small", datetime: draft.created_at || "", text: ` · ${formatDate(draft.created_at)}` }),
    draft.needs_human ? pill("needs a human", "pill-flag") : null,
  );
  return el(
    "li",
    { class: "entry entry-draft", "data-kind": "draft", "data-id": draft.id || "" },
    el("details", {}, summary, el("div", { class: "entry-text", text: draft.final_text || draft.text || "" })),
  );
}

// "tok_01…:ana" → "ana": the token id stays in the tooltip for who-exactly questions.
export function actorName(actor) {
  const text = String(actor || "");
  const at = text.indexOf(":");
  return at < 0 ? text : text.slice(at + 1);
}

export function renderConversation(target, ticket) {
  const messages = Array.isArray(ticket.messages) ? ticket.messages : [];
  const drafts = Array.isArray(ticket.drafts) && ticket.drafts.length ? ticket.drafts : ticket.draft ? [ticket.draft] : [];
  // A sent draft already appears as its reply message; show only the others.
  const replied = new Set(messages.map((m) => m.draft_id || m.id));
  const items = [
    ...messages.map((m) => ({ at: m.created_at, node: () => conversationEntry(m) })),
    ...drafts.filter((d) => !replied.has(d.id)).map((d) => ({ at: d.created_at, node: () => draftEntry(d) })),
  ];
  items.sort((a, b) => new Date(a.at).getTime() - new Date(b.at).getTime());
  target.replaceChildren(...items.map((i) => i.node()));
  if (!items.length) target.append(el("li", { class: "muted", text: "No messages." }));
}

export function renderAudit(target, entries) {
  target.replaceChildren();
  if (!entries.length) {
    target.append(el("tr", {}, el("td", { colspan: 5, class: "muted", text: "No history yet." })));
    return;
  }
  for (const entry of entries) {
    const detail = auditDetail(entry.detail);
    target.append(
      el(
        "tr",
        { "data-action": entry.action },
        el("td", { text: formatDate(entry.created_at || entry.at) }),
        el("td", { title: entry.actor || "", text: actorName(entry.actor) }),
        el("td", { text: words(entry.action) }),
        el("td", { text: auditStatus(entry).replaceAll("_", " ") }),
        el("td", { class: "detail" }, detail),
      ),
    );
  }
}
