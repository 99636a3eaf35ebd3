// The conversation's actions in the console: take, note, reply, recategorise, status
// changes, merge and link; the Markdown preview beside the draft editor; the shortcut list.
import {
  addNote, changeStatus, linkTicket, mergeInto, recategorize, sendReply, takeTicket, unassignTicket,
} from "./console-api.js";
import { formatDate } from "./console-render.js";
import { ApiError, el } from "./http.js";
import { renderMarkdown } from "./markdown.js";

const $ = (id) => document.getElementById(id);

// Every shortcut the console answers to; the `?` overlay is built from this list, so a
// new shortcut cannot be missing from it.
export const SHORTCUTS = [
  ["j / k", "Next / previous ticket in the queue"],
  ["Enter", "Open the focused ticket"],
  ["r", "Refresh the queue"],
  ["/", "Jump to the queue filters"],
  ["t", "Take the open ticket"],
  ["e", "Edit the draft"],
  ["w", "Write a reply by hand"],
  ["n", "Add an internal note"],
  ["l", "Link the open ticket to another (same incident)"],
  ["Ctrl+Enter", "In the draft: approve and send (asks first when the draft needs a human or is flagged)"],
  ["Ctrl+Enter", "In the reply or note box: send it"],
  ["?", "Show this list"],
  ["Esc", "Close a dialog or dismiss an error"],
];

export function renderShortcuts() {
  $("shortcut-list").replaceChildren(
    ...SHORTCUTS.flatMap(([keys, what]) => [el("dt", {}, ...keys.split(" / ").flatMap((k, i) => [i ? " / " : null, el("kbd", { text: k })])), el("dd", { text: what })]),
  );
}

// The preview is built by the sanitising Markdown renderer; an [n] marker links to
// source n in the list below, and pointing at it highlights that source.
export function renderPreview(text, sourceCount) {
  $("draft-preview").replaceChildren(renderMarkdown(text, { sourceCount }));
}

function highlightSource(event, on) {
  const link = event.target instanceof Element ? event.target.closest("a.cite") : null;
  if (!link) return;
  const source = document.getElementById(link.getAttribute("href").slice(1));
  if (source) source.classList.toggle("cite-target", on);
}

// Flags that only describe the ticket (which environment it is about): every other
// flag (a secret, an injection attempt, an outage, stuck money, a low-confidence or
// disputed classification, an untrusted source) is a warning.
const INFORMATIONAL_FLAGS = new Set(["sandbox", "production"]);

export function warningFlags(ticket) {
  const flags = (ticket && ticket.triage && ticket.triage.flags) || [];
  return flags.filter((f) => !INFORMATIONAL_FLAGS.has(f));
}

// Whether approving needs an explicit second step: a draft the pipeline handed to a
// person, or a ticket with a warning flag, is never sent on one keystroke.
export function needsConfirmation(ticket, draft) {
  return Boolean(draft && (draft.needs_human || warningFlags(ticket).length));
}

// Resolves true only when the agent presses "Send anyway"; focus starts on Cancel, so
// an Enter held over from Ctrl+Enter cannot confirm.
export function confirmSend(reasonText) {
  const dialog = $("confirm-dialog");
  $("confirm-reason").textContent = reasonText;
  return new Promise((resolve) => {
    const done = (answer) => {
      $("confirm-send").removeEventListener("click", yes);
      $("confirm-cancel").removeEventListener("click", no);
      dialog.removeEventListener("close", no);
      if (dialog.open) dialog.close();
      resolve(answer);
    };
    const yes = () => done(true);
    const no = () => done(false);
    $("confirm-send").addEventListener("click", yes);
    $("confirm-cancel").addEventListener("click", no);
    dialog.addEventListener("close", no);
    dialog.showModal();
    $("confirm-cancel").focus();
  });
}

export function wireConversation({ state, busy, after, showError }) {
  const ticket = () => state.ticket;
  const version = () => state.ticket?.version;
  const act = (button, work, notice) => {
    const t = ticket();
    if (!t) return;
    busy(button, async () => { await work(t); await after(notice); });
  };
  const invalid = (field, text) => { showError(new ApiError(422, "Invalid input", text)); $(field).focus(); };

  $("take-btn").addEventListener("click", (e) => act(e.currentTarget, (t) => takeTicket(t.id, version()), "Ticket taken."));
  $("unassign-btn").addEventListener("click", (e) => act(e.currentTarget, (t) => unassignTicket(t.id, version()), "Ticket unassigned."));
  $("solve-btn").addEventListener("click", (e) => act(e.currentTarget, (t) => changeStatus(t.id, "solve", version()), "Ticket solved."));
  $("await-btn").addEventListener("click", (e) => act(e.currentTarget, (t) => changeStatus(t.id, "awaiting-customer", version()), "Waiting on the customer."));
  $("reopen-btn").addEventListener("click", (e) => act(e.currentTarget, (t) => changeStatus(t.id, "reopen", version()), "Ticket reopened."));
  $("redraft-btn").addEventListener("click", (e) => act(e.currentTarget, (t) => changeStatus(t.id, "redraft", version()), "A new draft was asked for."));

  const onReply = (event) => {
    event.preventDefault();
    const text = $("reply-text").value;
    if (!text.trim()) { invalid("reply-text", "Write the reply first."); return; }
    act($("reply-btn"), async (t) => { await sendReply(t.id, text, version()); $("reply-text").value = ""; }, "Reply queued for sending.");
  };
  const onNote = (event) => {
    event.preventDefault();
    const text = $("note-text").value;
    if (!text.trim()) { invalid("note-text", "Write the note first."); return; }
    act($("note-btn"), async (t) => { await addNote(t.id, text); $("note-text").value = ""; }, "Note added.");
  };
  $("reply-form").addEventListener("submit", onReply);
  $("note-form").addEventListener("submit", onNote);
  $("reply-text").addEventListener("keydown", (e) => { if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) onReply(e); });
  $("note-text").addEventListener("keydown", (e) => { if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) onNote(e); });

  $("recat-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const category = $("recat-category").value.trim();
    const priority = $("recat-priority").value;
    if (!category && !priority) { invalid("recat-category", "Give a new category, a new priority or both."); return; }
    act($("recat-btn"), async (t) => { await recategorize(t.id, category, priority, version()); $("recat-category").value = ""; $("recat-priority").value = ""; }, "Ticket recategorised.");
  });
  $("merge-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const into = $("merge-into").value.trim();
    if (!into) { invalid("merge-into", "Give the id of the ticket to merge into."); return; }
    act($("merge-btn"), async (t) => { await mergeInto(t.id, into, version()); $("merge-into").value = ""; }, "Ticket merged.");
  });

  $("link-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const other = $("link-other").value.trim();
    if (!other) { invalid("link-other", "Give the id of the ticket to link to."); return; }
    const kind = $("link-kind").value;
    act($("link-btn"), async (t) => { await linkTicket(t.id, other, kind, version()); $("link-other").value = ""; }, "Tickets linked.");
  });

  $("draft-preview").addEventListener("mouseover", (e) => highlightSource(e, true));
  $("draft-preview").addEventListener("mouseout", (e) => highlightSource(e, false));
  $("draft-preview").addEventListener("focusin", (e) => highlightSource(e, true));
  $("draft-preview").addEventListener("focusout", (e) => highlightSource(e, false));
  $("help-close").addEventListener("click", () => $("help-dialog").close());
  renderShortcuts();
}

// Which actions make sense in the ticket's status (the server checks again).
export function renderActions(ticket) {
  const status = ticket.status;
  const merged = Boolean(ticket.merged_into);
  $("take-btn").hidden = Boolean(ticket.assignee);
  $("unassign-btn").hidden = !ticket.assignee;
  $("solve-btn").hidden = status === "solved" || merged;
  $("await-btn").hidden = status === "solved" || status === "awaiting_customer" || status === "drafting" || merged;
  $("reopen-btn").hidden = !(status === "solved" || status === "awaiting_customer") || merged;
  $("redraft-btn").hidden = status === "approved" || merged;
  const sla = ticket.sla || {};
  const due = [sla.next_response_due, sla.first_response_due, sla.resolution_due].find(Boolean);
  const workflow = [
    ticket.assignee ? `assigned to ${ticket.assignee}` : "unassigned",
    ticket.merged_into ? `merged into ${ticket.merged_into}` : null,
    sla.paused ? "SLA paused" : due ? `reply due ${formatDate(due)}` : null,
    sla.breached ? "SLA breached" : null,
  ];
  $("ticket-workflow").textContent = workflow.filter(Boolean).join(" · ");
  renderContact(ticket.contact);
  const links = Array.isArray(ticket.links) ? ticket.links : [];
  $("linked-list").textContent = links.length
    ? `Linked: ${links.map((l) => `${l.ticket_id} (${l.kind === "incident" ? "same incident" : l.kind})`).join(", ")}`
    : "";
  $("link-btn").disabled = merged;
}

// The developer's contact from a /help hand-off: agents see the address itself (the
// developer's own page shows it masked); replies go there by email too.
function renderContact(contact) {
  const line = $("ticket-contact");
  const shown = Boolean(contact && (contact.email || contact.name));
  line.hidden = !shown;
  if (!shown) { line.replaceChildren(); return; }
  line.replaceChildren(
    el("strong", { text: "Contact: " }),
    contact.name ? el("span", { text: `${contact.name} ` }) : null,
    contact.email ? el("a", { href: `mailto:${contact.email}`, id: "contact-email", text: contact.email }) : null,
    el("span", { class: "muted", text: contact.email ? " · replies are also emailed" : " · no email left" }),
  );
}
