// The console's view of the review API: bearer token, endpoints and idempotent decisions.
import { ApiError, newUuid, requestJson } from "./http.js";

const TOKEN_KEY = "triage.console.token";

// sessionStorage, not localStorage: the token dies with the tab and is never shared
// with other tabs or left behind on a shared machine.
export const tokenStore = {
  get: () => sessionStorage.getItem(TOKEN_KEY),
  set: (token) => sessionStorage.setItem(TOKEN_KEY, token),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

function authed(path, options = {}) {
  const token = tokenStore.get();
  if (!token) return Promise.reject(new ApiError(401, "Not signed in", "Sign in with an agent token."));
  return requestJson(path, { ...options, headers: { ...(options.headers || {}), Authorization: `Bearer ${token}` } });
}

// The API may wrap lists; accept the common envelopes so the UI does not care.
function listOf(data, ...keys) {
  if (Array.isArray(data)) return data;
  for (const key of keys) if (data && Array.isArray(data[key])) return data[key];
  return [];
}

export async function fetchQueue({ status, mine, breached, category, priority, team, cursor, limit = 25 }) {
  const params = new URLSearchParams({ limit: String(limit) });
  if (status) params.set("status", status);
  if (mine) params.set("mine", "true");
  if (breached) params.set("breached", "true");
  if (category) params.set("category", category);
  if (priority) params.set("priority", priority);
  if (team) params.set("team", team);
  if (cursor) params.set("cursor", cursor);
  const data = await authed(`/v1/review/queue?${params}`);
  return {
    items: listOf(data, "items", "tickets", "results"),
    nextCursor: (data && (data.next_cursor ?? data.cursor ?? null)) || null,
  };
}

export const fetchTicket = (id) => authed(`/v1/tickets/${encodeURIComponent(id)}`);

export async function fetchAudit(id) {
  const data = await authed(`/v1/tickets/${encodeURIComponent(id)}/audit`);
  return listOf(data, "items", "events", "audit", "entries");
}

// One idempotency key per decision the agent means to make.  A retry of the same
// decision (same draft, same body) reuses the key, so a response lost to the network
// cannot approve twice; changing the text or reason is a new decision with a new key.
const intents = new Map();

async function decide(scope, path, body) {
  const fingerprint = JSON.stringify(body);
  let intent = intents.get(scope);
  if (!intent || intent.fingerprint !== fingerprint) {
    intent = { fingerprint, key: newUuid() };
    intents.set(scope, intent);
  }
  try {
    const result = await authed(path, { method: "POST", headers: { "Idempotency-Key": intent.key }, body });
    intents.delete(scope);
    return result;
  } catch (error) {
    // A definite refusal (4xx other than 408/429) will not change on retry with this
    // key; forget it so a corrected request is not answered with the stored refusal.
    if (!(error instanceof ApiError) || !error.retryable) intents.delete(scope);
    throw error;
  }
}

// `expected_version` makes the server refuse (409) if a newer draft replaced the one
// the agent read, instead of approving text the agent never saw.
export function approveDraft(draftId, version, text) {
  const body = {};
  if (text != null) body.text = text;
  if (Number.isInteger(version)) body.expected_version = version;
  return decide(`approve:${draftId}`, `/v1/drafts/${encodeURIComponent(draftId)}/approve`, body);
}

export function rejectDraft(draftId, reasonCode, note) {
  const body = { reason_code: reasonCode };
  if (note) body.reason = note;
  return decide(`reject:${draftId}`, `/v1/drafts/${encodeURIComponent(draftId)}/reject`, body);
}

export function escalateTicket(ticketId, reason, team) {
  const body = { reason };
  if (team) body.team = team;
  return decide(`escalate:${ticketId}`, `/v1/tickets/${encodeURIComponent(ticketId)}/escalate`, body);
}

// ---- the conversation's actions (app/api/routes/conversations.py) -------------------

const ticketPath = (id, action) => `/v1/tickets/${encodeURIComponent(id)}/${action}`;
const versioned = (body, version) => (Number.isInteger(version) ? { ...body, expected_version: version } : body);

// A handwritten reply reaches the customer: keyed like an approval, so a retried click or
// a lost response cannot send it twice.
export function sendReply(ticketId, text, version) {
  return decide(`reply:${ticketId}`, ticketPath(ticketId, "messages"), versioned({ text, author: "agent" }, version));
}

export function addNote(ticketId, text) {
  return authed(ticketPath(ticketId, "messages"), { method: "POST", body: { text, author: "agent", internal: true } });
}

export function takeTicket(ticketId, version) {
  return authed(ticketPath(ticketId, "assign"), { method: "POST", body: versioned({ take: true }, version) });
}

export function unassignTicket(ticketId, version) {
  return authed(ticketPath(ticketId, "assign"), { method: "POST", body: versioned({ assignee: null }, version) });
}

export function recategorize(ticketId, category, priority, version) {
  const body = {};
  if (category) body.category = category;
  if (priority) body.priority = priority;
  return authed(ticketPath(ticketId, "recategorize"), { method: "POST", body: versioned(body, version) });
}

// solve | awaiting-customer | reopen | redraft
export function changeStatus(ticketId, action, version) {
  return authed(ticketPath(ticketId, action), { method: "POST", body: versioned({}, version) });
}

export function mergeInto(ticketId, into, version) {
  return authed(ticketPath(ticketId, "merge"), { method: "POST", body: versioned({ into }, version) });
}

// kind: incident | related
export function linkTicket(ticketId, other, kind, version) {
  return authed(ticketPath(ticketId, "link"), { method: "POST", body: versioned({ ticket_id: other, kind }, version) });
}

// Exposed for tests and debugging: which key a pending decision would reuse.
export const pendingIntentKey = (scope) => intents.get(scope)?.key ?? null;
