// The knowledge-gap page: the ranked gap report, each gap linked to its tickets, and the
// calibration of draft confidence with where earned auto-send stands per category.
import { tokenStore } from "./console-api.js";
import { ApiError, citationLabel, el, requestJson, safeHref } from "./http.js";
import { reliabilityFigure } from "./reliability.js";

const $ = (id) => document.getElementById(id);
const KIND_LABEL = { docs_gap: "Docs gap", retrieval_miss: "Retrieval miss" };
const SOURCE_LABEL = { handoff: "handed off", didnt_help: "didn't help", rejected: "rejected draft" };
const TREND_ARROW = { up: "▲", down: "▼", flat: "■", new: "●" };

function authed(path) {
  const token = tokenStore.get();
  if (!token) return Promise.reject(new ApiError(401, "Not signed in", "Sign in with an agent token."));
  return requestJson(path, { headers: { Authorization: `Bearer ${token}` } });
}

function showError(error) {
  if (error instanceof ApiError && error.status === 401) {
    signOut();
    return;
  }
  const banner = $("banner");
  banner.textContent = error instanceof ApiError ? `${error.title}: ${error.detail}` : String(error.message || error);
  banner.hidden = false;
}

function signOut() {
  tokenStore.clear();
  $("workspace").hidden = true;
  $("sign-out").hidden = true;
  $("login").hidden = false;
  $("token-input").focus();
}

function enter() {
  $("login").hidden = true;
  $("workspace").hidden = false;
  $("sign-out").hidden = false;
}

// ---- gaps ---------------------------------------------------------------------------

function trendText(trend) {
  if (trend.direction === "new") return `${TREND_ARROW.new} new this period`;
  return `${TREND_ARROW[trend.direction] || ""} ${trend.direction} from ${trend.previous}`;
}

function nearestItem(doc) {
  const page = citationLabel(doc);
  const section = (doc.heading || "").split(" > ").pop();
  const label = section && section !== page ? `${page} › ${section}` : page;
  const href = safeHref(doc.url);
  const name = href ? el("a", { href, target: "_blank", rel: "noopener noreferrer", text: label }) : el("span", { text: label });
  return el("li", {}, name, el("span", { class: "muted small", text: ` similarity ${doc.similarity.toFixed(2)}` }));
}

function renderGap(gap, rank) {
  const sources = Object.entries(gap.sources).map(([k, n]) => `${n} ${SOURCE_LABEL[k] || k}`).join(", ");
  const tickets = el("div", { class: "ticket-links" });
  for (const id of gap.ticket_ids) {
    tickets.append(el("a", { href: `/console#ticket=${encodeURIComponent(id)}`, class: "ticket-link", text: id }));
  }
  if (gap.answer_ids.length) {
    tickets.append(el("span", { class: "muted", text: `${gap.answer_ids.length} self-service answer(s) without a ticket` }));
  }
  return el(
    "li",
    // The stats page links to a gap by its rank (with the same `since`).
    { class: "gap", id: `gap-${rank}`, "data-kind": gap.kind },
    el(
      "div",
      { class: "gap-head" },
      el("span", { class: "gap-rank", text: `${rank}.` }),
      el("h2", { class: "gap-topic", text: gap.topic }),
      el("span", { class: `kind kind-${gap.kind}`, text: KIND_LABEL[gap.kind] || gap.kind }),
      el("span", { class: `trend trend-${gap.trend.direction}`, text: trendText(gap.trend) }),
      el("span", { class: "gap-count", text: `${gap.count} question${gap.count === 1 ? "" : "s"}` }),
    ),
    el("p", { class: "muted small", text: sources }),
    el("h3", { text: "Examples" }),
    el("ul", {}, ...gap.examples.map((text) => el("li", { class: "example", text }))),
    el("h3", { text: "Nearest doc sections" }),
    gap.nearest_docs.length ? el("ul", {}, ...gap.nearest_docs.map(nearestItem)) : el("p", { class: "muted small", text: "None found." }),
    el("h3", { text: "Tickets" }),
    tickets,
  );
}

async function loadGaps() {
  const since = $("since-input").value;
  const query = since ? `?since=${encodeURIComponent(since)}` : "";
  const report = await authed(`/v1/gaps${query}`);
  const day = (iso) => iso.slice(0, 10);
  $("gaps-summary").textContent =
    `${report.questions} question(s) the docs did not answer from ${day(report.since)} to ${day(report.until)}, ` +
    `in ${report.gaps.length} topic(s); trends compare with ${day(report.previous_since)} onwards.`;
  if (!since) $("since-input").value = day(report.since);
  $("gap-list").replaceChildren(...report.gaps.map((gap, i) => renderGap(gap, i + 1)));
}

// ---- calibration --------------------------------------------------------------------

function autosendTable(status) {
  if (!status.categories.length) {
    const legacy = status.legacy_min_confidence;
    const text = legacy == null
      ? "No category is governed by the auto-send policy: every reply waits for an agent."
      : `No category is governed by the auto-send policy; drafts at confidence ≥ ${legacy} are sent unmeasured (TRIAGE_AUTO_SEND_MIN_CONFIDENCE).`;
    return el("p", { class: "muted", id: "autosend-none", text });
  }
  const head = el("tr", {}, ...["Category", "Mode", "Verdicts", "Precision", "Threshold", "Would send: unedited / edited / rejected"].map((t) => el("th", { text: t })));
  const rows = status.categories.map((c) => {
    const f = c.figures;
    const w = c.comparison.would_send;
    return el(
      "tr",
      { "data-category": c.category },
      el("td", { text: c.category }),
      el("td", {}, el("span", { class: `mode mode-${c.mode}`, text: c.mode })),
      el("td", { text: f ? `${f.reviewed} / ${f.min_reviews}` : "–" }),
      el("td", { text: f && f.precision != null ? `${f.precision.toFixed(2)} (target ${f.target_precision})` : "–" }),
      el("td", { text: f ? f.threshold.toFixed(2) : "–" }),
      el("td", { text: `${w.approved_unedited} / ${w.edited} / ${w.rejected}` }),
    );
  });
  return el("table", { class: "autosend" }, el("thead", {}, head), el("tbody", {}, ...rows));
}

async function loadCalibration() {
  const report = await authed("/v1/calibration");
  $("autosend").replaceChildren(autosendTable(report.autosend));
  const tables = report.reliability.filter((t) => t.n > 0);
  $("reliability").replaceChildren(
    ...(tables.length ? tables.map(reliabilityFigure) : [el("p", { class: "muted", text: "No reviewed drafts yet." })]),
  );
}

async function refresh() {
  $("banner").hidden = true;
  const button = $("refresh-btn");
  button.disabled = true;
  try {
    await Promise.all([loadGaps(), loadCalibration()]);
    enter();
    // A link to one gap (#gap-3) or to the diagrams (#calibration-heading) lands on it.
    const target = location.hash ? document.getElementById(decodeURIComponent(location.hash.slice(1))) : null;
    if (target) target.scrollIntoView();
  } catch (error) {
    showError(error);
  } finally {
    button.disabled = false;
  }
}

function init() {
  $("login-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const token = $("token-input").value.trim();
    if (!token) return;
    tokenStore.set(token);
    refresh();
  });
  $("period-form").addEventListener("submit", (event) => {
    event.preventDefault();
    refresh();
  });
  $("sign-out").addEventListener("click", signOut);
  // A link from the stats page names its period: ?since=YYYY-MM-DD.
  const since = new URLSearchParams(location.search).get("since");
  if (since && /^\d{4}-\d{2}-\d{2}$/.test(since)) $("since-input").value = since;
  if (tokenStore.get()) refresh();
  else signOut();
}

init();
