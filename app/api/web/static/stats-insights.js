// The stats page's knowledge-gap and calibration cards, from the endpoints the
// knowledge-gap page reads (GET /v1/gaps, GET /v1/calibration) over the page's period;
// each links to that page for the full report.
import { el } from "./http.js";
import { formatEce, reliabilityChart } from "./reliability.js";

const $ = (id) => document.getElementById(id);
const TOP = 5;
const KIND_LABEL = { docs_gap: "Docs gap", retrieval_miss: "Retrieval miss" };
const TREND_ARROW = { up: "▲", down: "▼", flat: "■", new: "●" };

function trendText(trend) {
  if (trend.direction === "new") return `${TREND_ARROW.new} new`;
  return `${TREND_ARROW[trend.direction] || ""} ${trend.direction} from ${trend.previous}`;
}

function gapItem(gap, rank, since) {
  const href = `/console/gaps?since=${encodeURIComponent(since)}#gap-${rank}`;
  return el(
    "li",
    { class: "top-gap", "data-rank": String(rank), "data-kind": gap.kind },
    el(
      "span",
      { class: "top-gap-name" },
      el("a", { class: "top-gap-topic", href, text: gap.topic }),
      " ",
      el("span", { class: `kind kind-${gap.kind}`, text: KIND_LABEL[gap.kind] || gap.kind }),
    ),
    el("span", { class: "top-gap-count", "data-count": String(gap.count), text: `${gap.count} question${gap.count === 1 ? "" : "s"}` }),
    el("span", { class: `trend trend-${gap.trend.direction}`, "data-trend": gap.trend.direction, text: trendText(gap.trend) }),
  );
}

function status(id, state, text) {
  const node = $(id);
  node.dataset.state = state;
  node.textContent = text;
  node.hidden = !text;
}

export async function loadGaps(request, since, isCurrent) {
  status("gaps-status", "loading", "Clustering the questions the docs did not answer…");
  try {
    const report = await request(`/v1/gaps?since=${encodeURIComponent(since)}&limit=${TOP}`);
    if (!isCurrent()) return;
    const items = report.gaps.slice(0, TOP).map((gap, i) => gapItem(gap, i + 1, since));
    $("top-gaps").replaceChildren(...items);
    status("gaps-status", items.length ? "ok" : "empty",
      items.length ? `${report.questions} question(s) the docs did not answer; the most urgent topics first.` : "No unanswered questions in this period.");
    $("gaps-link").href = `/console/gaps?since=${encodeURIComponent(since)}`;
  } catch (error) {
    if (!isCurrent()) return;
    $("top-gaps").replaceChildren();
    status("gaps-status", "error", `Knowledge gaps unavailable: ${error.detail || error.message}`);
  }
}

export async function loadCalibration(request, since, until, isCurrent) {
  status("calibration-status", "loading", "Loading…");
  try {
    const report = await request(`/v1/calibration?since=${encodeURIComponent(since)}&until=${encodeURIComponent(until)}`);
    if (!isCurrent()) return;
    const overall = report.reliability.find((t) => t.category === "all");
    const categories = report.reliability.filter((t) => t.category !== "all" && t.n > 0);
    $("calibration-ece").textContent = formatEce(overall ? overall.ece : null);
    $("calibration-verdicts").textContent = String(overall ? overall.n : 0);
    $("calibration-brier").textContent = overall && overall.brier != null ? overall.brier.toFixed(3) : "–";
    if (!overall || !overall.n) {
      $("calibration-chart").replaceChildren();
      $("calibration-categories").replaceChildren();
      status("calibration-status", "empty", "No reviewed drafts in this period.");
      return;
    }
    $("calibration-chart").replaceChildren(reliabilityChart(overall));
    const rows = categories.sort((a, b) => b.n - a.n).slice(0, TOP).map((t) =>
      el("tr", { "data-category": t.category }, el("td", { text: t.category }), el("td", { text: String(t.n) }), el("td", { text: formatEce(t.ece) })));
    $("calibration-categories").replaceChildren(...rows);
    status("calibration-status", "ok", "");
  } catch (error) {
    if (!isCurrent()) return;
    status("calibration-status", "error", `Calibration unavailable: ${error.detail || error.message}`);
  }
}
