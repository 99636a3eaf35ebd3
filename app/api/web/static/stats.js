// The support stats page: GET /v1/stats drawn as plain SVG (no chart library, no CDN),
// then the slower parts it loads after: the volume forecast, the top knowledge gaps and
// the calibration of draft confidence.
import { empty, place, shape, svg } from "./chart-svg.js";
import { tokenStore } from "./console-api.js";
import { ApiError, requestJson } from "./http.js";
import { loadCalibration, loadGaps } from "./stats-insights.js";
import { describeForecast, drawVolume, forecastFailed } from "./stats-volume.js";

const MEASURES = [
  ["first_draft", "first draft"],
  ["first_response", "first response"],
  ["approval", "approval"],
  ["resolution", "resolution"],
];
const $ = (id) => document.getElementById(id);

function percent(value) {
  return value == null ? "–" : `${Math.round(value * 1000) / 10} %`;
}

function duration(seconds) {
  if (seconds == null) return "–";
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172800) return `${Math.round(seconds / 360) / 10} h`;
  return `${Math.round(seconds / 8640) / 10} d`;
}

// Per day, the share of tracked tickets that met every SLA target (green) or not (red).
function drawSla(groups) {
  const days = groups.filter((g) => g.tickets.sla.tracked > 0);
  if (!days.length) return empty("sla-chart", "No tickets with SLA clocks in this period");
  // Room on the left for the "100%" label, which a narrower margin cut off.
  const width = 560, height = 120, bottom = 20, left = 44;
  const chart = svg(width, height);
  const step = (width - left) / groups.length;
  shape(chart, "text", { x: left - 4, y: 12, "text-anchor": "end" }, "100%");
  groups.forEach((group, i) => {
    const sla = group.tickets.sla;
    if (!sla.tracked) return;
    const full = height - bottom - 4;
    const met = (full * (sla.tracked - sla.breached)) / sla.tracked;
    const x = left + i * step + 1, w = Math.max(step - 2, 1);
    shape(chart, "rect", { x, y: 4, width: w, height: full - met, class: "bar-breached" });
    const bar = shape(chart, "rect", { x, y: 4 + full - met, width: w, height: met, class: "bar-met" });
    shape(bar, "title", {}, `${group.key}: ${percent(sla.attainment)} of ${sla.tracked}`);
  });
  place("sla-chart", chart);
}

// Drafts written → reviewed by a person → approved → approved as written.
function drawFunnel(drafts) {
  const steps = [
    ["written", drafts.total],
    ["reviewed", drafts.reviewed],
    ["approved", drafts.approved_unedited + drafts.edited],
    ["unedited", drafts.approved_unedited],
    ["rejected", drafts.rejected],
    ["rewritten by hand", drafts.rewritten_by_hand],
    ["auto-sent", drafts.auto_sent],
  ];
  if (!drafts.total) return empty("funnel-chart", "No drafts in this period");
  const width = 560, row = 26, left = 130;
  const chart = svg(width, row * steps.length + 4);
  steps.forEach(([name, count], i) => {
    const w = ((width - left - 50) * count) / drafts.total;
    const y = i * row + 4;
    shape(chart, "text", { x: left - 8, y: y + 15, "text-anchor": "end", class: "label-strong" }, name);
    shape(chart, "rect", { x: left, y, width: Math.max(w, 1), height: row - 8, class: "bar", "data-step": name });
    shape(chart, "text", { x: left + w + 6, y: y + 15, "data-count": name }, String(count));
  });
  place("funnel-chart", chart);
}

// Answers given → with a known asker → settled (window passed) → deflected; beside
// them the questions handed to an agent and the askers' verdicts (helped, didn't).
function drawDeflection(self) {
  const steps = [
    ["answered", self.answered],
    ["handed off", self.handed_off],
    ["helpful", self.helpful],
    ["didn't help", self.didnt_help],
    ["asker known", self.asker_known],
    ["settled", self.settled],
    ["deflected", self.deflected],
  ];
  const most = Math.max(...steps.map(([, count]) => count));
  if (!most) return empty("deflection-chart", "No self-service questions in this period");
  const width = 560, row = 26, left = 130;
  const chart = svg(width, row * steps.length + 4);
  steps.forEach(([name, count], i) => {
    const w = ((width - left - 50) * count) / most;
    const y = i * row + 4;
    shape(chart, "text", { x: left - 8, y: y + 15, "text-anchor": "end", class: "label-strong" }, name);
    shape(chart, "rect", { x: left, y, width: Math.max(w, 1), height: row - 8, class: "bar", "data-step": name });
    shape(chart, "text", { x: left + w + 6, y: y + 15, "data-count": name }, String(count));
  });
  place("deflection-chart", chart);
}

function money(value) {
  return value == null ? null : value < 0.01 ? value.toPrecision(2) : value.toFixed(4);
}

function fillTimings(timings, business) {
  for (const th of document.querySelectorAll("th.business")) th.hidden = !business;
  const rows = MEASURES.map(([key, name]) => {
    const timing = timings[key];
    const tr = document.createElement("tr");
    const cells = [name, String(timing.count), duration(timing.p50_seconds), duration(timing.p90_seconds)];
    if (business) cells.push(duration(business[key].p50_seconds), duration(business[key].p90_seconds));
    for (const text of cells) {
      const cell = document.createElement("td");
      cell.textContent = text;
      tr.appendChild(cell);
    }
    return tr;
  });
  $("timings-body").replaceChildren(...rows);
}

function fillSlaClocks(sla) {
  const items = [
    ["tracked tickets", sla.tracked],
    ["first response late", sla.first_response_breached],
    ["next response late", sla.next_response_breached],
    ["resolution late", sla.resolution_breached],
  ].flatMap(([name, value]) => {
    const dt = document.createElement("dt");
    dt.textContent = name;
    const dd = document.createElement("dd");
    dd.textContent = String(value);
    return [dt, dd];
  });
  $("sla-clocks").replaceChildren(...items);
}

function render(stats) {
  const totals = stats.totals;
  $("period").textContent = `${stats.from.slice(0, 10)} to ${stats.to.slice(0, 10)} (UTC)`;
  $("volume-total").textContent = String(totals.tickets.opened);
  $("volume-handoffs").textContent = String(totals.tickets.self_service_handoffs);
  $("sla-total").textContent = percent(totals.tickets.sla.attainment);
  $("acceptance-rate").textContent = percent(totals.drafts.acceptance_rate);
  drawVolume(stats.groups, forecast);
  drawSla(stats.groups);
  drawFunnel(totals.drafts);
  fillSlaClocks(totals.tickets.sla);
  fillTimings(totals.tickets.timings, totals.tickets.business_timings);
  const self = totals.self_service;
  $("deflection-rate").textContent = percent(self.deflection_rate);
  drawDeflection(self);
  const cost = money(totals.drafts.cost_per_draft);
  $("draft-cost").textContent = cost == null
    ? "Cost per draft: not known (no LLM drafts with token counts, or no prices configured)"
    : `Cost per draft: ${cost} over ${totals.drafts.with_cost} LLM drafts (total ${money(totals.drafts.cost)})`;
}

// Every day of the period, also those without tickets, so the bars keep their dates.
function everyDay(stats) {
  const byKey = new Map(stats.groups.map((g) => [g.key, g]));
  const days = [];
  const end = new Date(stats.to);
  for (let day = new Date(stats.from.slice(0, 10) + "T00:00:00Z"); day < end; day.setUTCDate(day.getUTCDate() + 1)) {
    const key = day.toISOString().slice(0, 10);
    days.push(byKey.get(key) || { key, tickets: { opened: 0, sla: { tracked: 0, breached: 0 } } });
  }
  return { ...stats, groups: days };
}

// The forecast does not depend on the period: fetched once per page load.
let forecast = null;
let forecastAsked = false;
let shown = null; // the period's stats, redrawn when the forecast arrives
let generation = 0; // answers for a period the user has left are dropped

function authed(path) {
  return requestJson(path, { headers: { Authorization: `Bearer ${tokenStore.get()}` } });
}

async function loadForecast() {
  describeForecast(null);
  try {
    forecast = await authed("/v1/stats/forecast?days=14");
    describeForecast(forecast);
    if (shown) drawVolume(shown.groups, forecast);
  } catch (error) {
    forecastAsked = false; // asked again with the next period
    if (error instanceof ApiError && (error.status === 401 || error.status === 403)) return;
    forecastFailed(error.detail || error.message);
  }
}

async function load() {
  // The last N days including today (UTC): N bars.
  const days = Number($("range").value);
  const to = new Date();
  const from = new Date(Date.UTC(to.getUTCFullYear(), to.getUTCMonth(), to.getUTCDate() - days + 1));
  const params = new URLSearchParams({ from: from.toISOString(), to: to.toISOString(), group: "day" });
  const mine = ++generation;
  const isCurrent = () => mine === generation;
  $("load-error").hidden = true;
  try {
    const stats = everyDay(await authed(`/v1/stats?${params}`));
    if (!isCurrent()) return;
    shown = stats;
    render(stats);
  } catch (error) {
    if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
      tokenStore.clear();
      return showLogin(error.detail);
    }
    $("load-error").textContent = error.detail || error.message;
    $("load-error").hidden = false;
    return;
  }
  // After the figures: the gap report clusters questions (seconds when cold).
  if (!forecastAsked) {
    forecastAsked = true;
    loadForecast();
  }
  loadGaps(authed, from.toISOString().slice(0, 10), isCurrent);
  loadCalibration(authed, from.toISOString(), to.toISOString(), isCurrent);
}

function showLogin(message) {
  $("dashboard").hidden = true;
  $("login").hidden = false;
  $("login-error").hidden = !message;
  $("login-error").textContent = message || "";
  $("token-input").focus();
}

function showDashboard() {
  $("login").hidden = true;
  $("dashboard").hidden = false;
  return load();
}

$("login-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const token = $("token-input").value.trim();
  if (!token) return showLogin("Paste a token first.");
  tokenStore.set(token);
  $("token-input").value = "";
  showDashboard();
});
$("range").addEventListener("change", load);

if (tokenStore.get()) showDashboard();
else showLogin();
