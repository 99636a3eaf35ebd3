// The review console: sign in, work the queue, decide on drafts.
import {
  approveDraft, escalateTicket, fetchAudit, fetchQueue, fetchTicket, rejectDraft, tokenStore,
} from "./console-api.js";
import { ApiError, el } from "./http.js";
import {
  formatDate, handoffText, queueItem, renderAudit, renderChecks, renderCitations, renderConversation, renderSignals, renderTriage, routing,
} from "./console-render.js";
import {
  confirmSend, needsConfirmation, renderActions, renderPreview, warningFlags, wireConversation,
} from "./console-conversation.js";

const $ = (id) => document.getElementById(id);

const state = { filters: { status: "pending_review" }, cursor: null, items: [], ticket: null, draft: null };

// ---- errors -------------------------------------------------------------------------

function showError(error) {
  if (error instanceof ApiError && error.status === 401) {
    signOut(error.detail || error.title);
    return;
  }
  const title = error instanceof ApiError ? `${error.title}${error.status ? ` (${error.status})` : ""}:` : "Error:";
  $("banner-title").textContent = title;
  $("banner-detail").textContent = error instanceof ApiError ? error.detail : String(error.message || error);
  $("banner").hidden = false;
}

function clearError() {
  $("banner").hidden = true;
}

// Disable the control while its request runs, so a double click cannot send twice.
async function busy(button, work) {
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  try {
    clearError();
    return await work();
  } catch (error) {
    showError(error);
    return undefined;
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }
}

// ---- session ------------------------------------------------------------------------

function signOut(message) {
  tokenStore.clear();
  $("workspace").hidden = true;
  $("session-bar").hidden = true;
  $("login").hidden = false;
  $("login-error").hidden = !message;
  $("login-error").textContent = message || "";
  $("token-input").value = "";
  $("token-input").focus();
}

async function signIn(event) {
  event.preventDefault();
  const token = $("token-input").value.trim();
  if (!token) {
    $("login-error").textContent = "Enter your agent token.";
    $("login-error").hidden = false;
    return;
  }
  tokenStore.set(token);
  $("login-error").hidden = true;
  await busy($("login-submit"), async () => {
    await loadQueue(false);
    enterWorkspace();
  });
}

function enterWorkspace() {
  const token = tokenStore.get();
  if (!token) return;
  // Only the non-secret prefix, the same one `triage tokens` lists, to tell tokens apart.
  $("session-label").textContent = `Signed in · ${token.slice(0, 8)}…`;
  $("login").hidden = true;
  $("workspace").hidden = false;
  $("session-bar").hidden = false;
  // The token field is hidden now, but Chromium only drops its focus on the next frame:
  // a shortcut typed at once would land in the hidden field and be ignored.
  if (document.activeElement instanceof HTMLElement) document.activeElement.blur();
}

// ---- queue --------------------------------------------------------------------------

function readFilters() {
  return {
    status: $("filter-status").value,
    mine: $("filter-mine").checked,
    breached: $("filter-breached").checked,
    category: $("filter-category").value.trim(),
    priority: $("filter-priority").value,
    team: $("filter-team").value.trim(),
  };
}

function remember(listId, values) {
  const list = $(listId);
  const known = new Set(Array.from(list.options, (o) => o.value));
  for (const v of values) if (v && !known.has(v)) { known.add(v); list.append(el("option", { value: v })); }
}

async function loadQueue(append) {
  if (!append) { state.cursor = null; state.items = []; }
  const page = await fetchQueue({ ...state.filters, cursor: append ? state.cursor : null });
  state.items = append ? state.items.concat(page.items) : page.items;
  state.cursor = page.nextCursor;
  renderQueue();
}

function renderQueue() {
  const list = $("queue-list");
  list.replaceChildren(...state.items.map((t, i) => queueItem(t, i)));
  remember("category-options", state.items.map((t) => routing(t).category));
  remember("team-options", state.items.map((t) => routing(t).team));
  const n = state.items.length;
  $("queue-status").textContent = n ? `${n} ticket${n === 1 ? "" : "s"} shown${state.cursor ? ", more available" : ""}` : "No tickets match.";
  $("load-more").hidden = !state.cursor;
  markCurrent();
}

function markCurrent() {
  const current = state.ticket?.id;
  for (const b of document.querySelectorAll(".queue-item")) {
    b.setAttribute("aria-current", String(b.dataset.ticketId === current));
  }
}

// ---- ticket -------------------------------------------------------------------------

// The draft under review: the pending one if the API lists several versions.
function currentDraft(ticket) {
  if (ticket.draft) return ticket.draft;
  const drafts = Array.isArray(ticket.drafts) ? ticket.drafts : [];
  return drafts.find((d) => d.status === "pending") || drafts[drafts.length - 1] || null;
}

function actionable(ticket, draft) {
  if (!draft) return false;
  if (draft.status) return draft.status === "pending";
  return ticket.status === "pending_review" || ticket.status === "escalated";
}

async function openTicket(id) {
  const [ticket, audit] = await Promise.all([fetchTicket(id), fetchAudit(id)]);
  renderTicket(ticket, audit);
  return ticket;
}

function renderTicket(ticket, audit) {
  state.ticket = ticket;
  state.draft = currentDraft(ticket);
  const draft = state.draft;
  $("detail-empty").hidden = true;
  $("ticket").hidden = false;
  $("ticket-title").textContent = ticket.id;
  const status = $("ticket-status");
  status.textContent = (ticket.status || "").replace("_", " ");
  status.className = `status status-${ticket.status}`;
  status.dataset.status = ticket.status || "";
  const meta = [ticket.channel && `via ${ticket.channel}`, ticket.reporter && `from ${ticket.reporter}`, formatDate(ticket.created_at)];
  $("ticket-meta").textContent = meta.filter(Boolean).join(" · ");
  $("ticket-message").textContent = ticket.message || "";
  renderConversation($("conversation"), ticket);
  renderActions(ticket);
  renderTriage($("triage-list"), ticket);
  renderSignals($("signals-list"), ticket.signals || {});

  const needsHuman = draft && draft.needs_human;
  $("needs-human").hidden = !needsHuman;
  $("needs-human").textContent = needsHuman ? `Needs a human: ${handoffText(draft.reason)}` : "";
  $("needs-human").dataset.reason = needsHuman ? draft.reason || "" : "";

  $("no-draft").hidden = Boolean(draft);
  $("draft-box").hidden = !draft;
  if (draft) {
    const parts = [`v${draft.version ?? 1}`, `confidence ${Math.round((draft.confidence ?? 0) * 100)}%`];
    if (draft.status) parts.push(draft.status);
    $("draft-meta").textContent = `(${parts.join(" · ")})`;
    $("draft-text").value = draft.final_text || draft.text || "";
    renderCitations($("draft-citations"), draft.citations || []);
  }
  renderChecks($("draft-checks-box"), $("draft-checks"), draft ? draft.checks : null);
  renderPreview($("draft-text").value, draft ? (draft.citations || []).length : 0);
  const open = actionable(ticket, draft);
  for (const id of ["draft-text", "approve-btn", "reset-btn", "reject-btn", "reject-code", "reject-note"]) $(id).disabled = !open;
  const closed = ticket.status === "approved" || ticket.status === "sent";
  for (const id of ["escalate-btn", "escalate-reason", "escalate-team"]) $(id).disabled = closed;
  updateEdited();
  renderAudit($("audit-body"), audit);
  markCurrent();
}

function updateEdited() {
  const draft = state.draft;
  let note = "";
  if (draft && actionable(state.ticket, draft)) {
    if ($("draft-text").value !== (draft.text || "")) note = "Edited: your text will be sent instead of the draft.";
  } else if (draft && draft.final_text && draft.final_text !== draft.text) {
    note = `Shown as approved${draft.approved_by ? ` by ${draft.approved_by}` : ""}, with edits to the draft.`;
  }
  $("draft-edited").textContent = note;
}

async function refreshTicket() {
  if (!state.ticket) return null;
  return openTicket(state.ticket.id);
}

// An approved reply goes out through the outbox a moment later; poll briefly so the
// agent sees it reach "sent" without reloading.
async function followDelivery(ticketId, attempts = 8) {
  for (let i = 0; i < attempts; i += 1) {
    await new Promise((resolve) => setTimeout(resolve, 1500));
    if (state.ticket?.id !== ticketId || state.ticket.status !== "approved") return;
    try { await refreshTicket(); } catch { return; }
  }
}

async function afterDecision(notice) {
  const ticket = await refreshTicket();
  await loadQueue(false);
  announce(notice);
  if (ticket && ticket.status === "approved") followDelivery(ticket.id);
}

function announce(text) {
  $("queue-status").textContent = text;
}

// ---- wiring -------------------------------------------------------------------------

async function onApprove() {
  const draft = state.draft;
  if (!draft || $("approve-btn").disabled) return;
  const text = $("draft-text").value;
  if (!text.trim()) { showError(new ApiError(422, "Invalid input", "An approved reply cannot be blank.")); return; }
  const edited = text !== (draft.text || "");
  if (needsConfirmation(state.ticket, draft)) {
    const flags = warningFlags(state.ticket);
    const why = [draft.needs_human ? `Needs a human: ${handoffText(draft.reason)}` : "", flags.length ? `Flagged: ${flags.join(", ")}.` : ""];
    if (!(await confirmSend(why.filter(Boolean).join(" ")))) { $("draft-text").focus(); return; }
  }
  busy($("approve-btn"), async () => {
    await approveDraft(draft.id, draft.version, edited ? text : null);
    await afterDecision("Draft approved; the reply is queued for sending.");
  });
}

function onReject(event) {
  event.preventDefault();
  const draft = state.draft;
  if (!draft) return;
  const code = $("reject-code").value;
  const note = $("reject-note").value.trim();
  if (code === "other" && !note) {
    showError(new ApiError(422, "Invalid input", "Add a note saying what was wrong when the reason is Other."));
    $("reject-note").focus();
    return;
  }
  busy($("reject-btn"), async () => {
    await rejectDraft(draft.id, code, note);
    $("reject-note").value = "";
    await afterDecision("Draft rejected.");
  });
}

function onEscalate(event) {
  event.preventDefault();
  const ticket = state.ticket;
  if (!ticket) return;
  const reason = $("escalate-reason").value.trim();
  if (!reason) { showError(new ApiError(422, "Invalid input", "Say why the ticket is escalated.")); $("escalate-reason").focus(); return; }
  busy($("escalate-btn"), async () => {
    await escalateTicket(ticket.id, reason, $("escalate-team").value.trim());
    $("escalate-reason").value = "";
    await afterDecision("Ticket escalated.");
  });
}

function moveSelection(step) {
  const buttons = Array.from(document.querySelectorAll(".queue-item"));
  if (!buttons.length) return;
  const at = buttons.indexOf(document.activeElement);
  const next = at === -1 ? 0 : Math.min(buttons.length - 1, Math.max(0, at + step));
  buttons[next].focus();
}

function onKey(event) {
  const target = event.target;
  const typing = target instanceof HTMLElement && target.closest("input, textarea, select");
  if (event.key === "Escape") { clearError(); return; }
  if (document.querySelector("dialog[open]")) return;
  if (typing || event.ctrlKey || event.metaKey || event.altKey || $("workspace").hidden) return;
  const open = state.ticket && !$("ticket").hidden;
  if (event.key === "?") { $("help-dialog").showModal(); event.preventDefault(); return; }
  if (open && event.key === "t" && !$("take-btn").hidden) { $("take-btn").click(); event.preventDefault(); return; }
  if (open && event.key === "e" && !$("draft-text").disabled) { $("draft-text").focus(); event.preventDefault(); return; }
  if (open && event.key === "w") { $("reply-text").focus(); event.preventDefault(); return; }
  if (open && event.key === "n") { $("note-text").focus(); event.preventDefault(); return; }
  if (open && event.key === "l" && !$("link-btn").disabled) { $("link-other").focus(); event.preventDefault(); return; }
  if (event.key === "j") { moveSelection(1); event.preventDefault(); }
  else if (event.key === "k") { moveSelection(-1); event.preventDefault(); }
  else if (event.key === "r") { busy($("queue-refresh"), () => loadQueue(false)); event.preventDefault(); }
  else if (event.key === "/") { $("filter-category").focus(); event.preventDefault(); }
}

function init() {
  $("login-form").addEventListener("submit", signIn);
  $("sign-out").addEventListener("click", () => signOut(""));
  $("banner-close").addEventListener("click", clearError);
  $("filters").addEventListener("submit", (event) => {
    event.preventDefault();
    state.filters = readFilters();
    busy(event.submitter || $("queue-refresh"), () => loadQueue(false));
  });
  $("queue-refresh").addEventListener("click", (e) => busy(e.currentTarget, () => loadQueue(false)));
  $("load-more").addEventListener("click", (e) => busy(e.currentTarget, () => loadQueue(true)));
  $("queue-list").addEventListener("click", (event) => {
    const button = event.target instanceof Element ? event.target.closest(".queue-item") : null;
    if (button) busy(button, () => openTicket(button.dataset.ticketId));
  });
  const preview = () => renderPreview($("draft-text").value, (state.draft?.citations || []).length);
  $("draft-text").addEventListener("input", () => { updateEdited(); preview(); });
  $("reset-btn").addEventListener("click", () => { if (state.draft) { $("draft-text").value = state.draft.text || ""; updateEdited(); preview(); } });
  $("approve-btn").addEventListener("click", onApprove);
  $("draft-text").addEventListener("keydown", (e) => { if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); onApprove(); } });
  wireConversation({ state, busy, after: afterDecision, showError });
  $("reject-form").addEventListener("submit", onReject);
  $("escalate-form").addEventListener("submit", onEscalate);
  document.addEventListener("keydown", onKey);

  if (tokenStore.get()) {
    enterWorkspace();
    busy($("queue-refresh"), () => loadQueue(false));
    // A link from another page (the knowledge gaps) opens its ticket: /console#ticket=ID.
    const linked = new URLSearchParams(location.hash.slice(1)).get("ticket");
    if (linked) busy($("queue-refresh"), () => openTicket(linked));
  } else {
    signOut("");
  }
}

init();
