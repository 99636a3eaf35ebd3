// The stats page's volume chart: one bar per day of the period (tickets opened) and,
// after it, the forecast (GET /v1/stats/forecast): its expected tickets as a line over
// the shaded 80 % interval.  The forecast starts today, so today has both its bar (so
// far) and what was expected of the whole day.
import { empty, place, shape, svg } from "./chart-svg.js";

const $ = (id) => document.getElementById(id);

function slots(groups, forecast) {
  const days = forecast && forecast.status === "ok" ? forecast.days : [];
  const byKey = new Map(groups.map((g) => [g.key, { key: g.key, opened: g.tickets.opened }]));
  for (const day of days) {
    const slot = byKey.get(day.day) || { key: day.day, opened: null };
    slot.forecast = day;
    byKey.set(day.day, slot);
  }
  return [...byKey.values()].sort((a, b) => (a.key < b.key ? -1 : 1));
}

function round(value) {
  return Math.round(value * 10) / 10;
}

export function drawVolume(groups, forecast) {
  const all = slots(groups, forecast);
  const ahead = all.filter((s) => s.forecast);
  if (!groups.some((g) => g.tickets.opened > 0) && !ahead.length) {
    return empty("volume-chart", "No tickets in this period");
  }
  const width = 560, height = 190, top = 18, bottom = 24, left = 30;
  const chart = svg(width, height);
  const max = Math.max(1, ...all.map((s) => Math.max(s.opened || 0, s.forecast ? s.forecast.upper : 0)));
  const step = (width - left) / all.length;
  const y = (value) => height - bottom - ((height - top - bottom) * value) / max;
  shape(chart, "line", { x1: left, y1: height - bottom, x2: width, y2: height - bottom, class: "axis" });
  shape(chart, "text", { x: left - 4, y: top + 4, "text-anchor": "end" }, String(Math.round(max)));
  if (ahead.length) {
    const x0 = left + all.indexOf(ahead[0]) * step;
    shape(chart, "line", { x1: x0, y1: top - 8, x2: x0, y2: height - bottom, class: "today" });
    shape(chart, "text", { x: x0 + 4, y: top - 6, class: "legend" }, `forecast, ${Math.round(forecast.level * 100)} % interval`);
    const centre = (s) => left + all.indexOf(s) * step + step / 2;
    const upper = ahead.map((s) => `${centre(s)},${y(s.forecast.upper)}`);
    const lower = ahead.map((s) => `${centre(s)},${y(s.forecast.lower)}`).reverse();
    shape(chart, "polygon", { points: [...upper, ...lower].join(" "), class: "forecast-band" });
    shape(chart, "polyline", { points: ahead.map((s) => `${centre(s)},${y(s.forecast.point)}`).join(" "), class: "forecast-line" });
  }
  all.forEach((slot, i) => {
    if (slot.opened) {
      const h = height - bottom - y(slot.opened);
      const bar = shape(chart, "rect", {
        x: left + i * step + 1, y: height - bottom - h, width: Math.max(step - 2, 1), height: h,
        class: "bar", "data-key": slot.key,
      });
      shape(bar, "title", {}, `${slot.key}: ${slot.opened} tickets`);
    } else if (slot.opened === 0) {
      // Keep the day's place (and its data-key) without drawing a bar.
      shape(chart, "rect", { x: left + i * step + 1, y: height - bottom, width: Math.max(step - 2, 1), height: 0, class: "bar", "data-key": slot.key });
    }
    if (slot.forecast) {
      const f = slot.forecast;
      const dot = shape(chart, "circle", {
        cx: left + i * step + step / 2, cy: y(f.point), r: Math.min(3, step / 3), class: "forecast-point", "data-forecast-day": f.day,
      });
      shape(dot, "title", {}, `${f.day}: about ${round(f.point)} tickets expected (${f.lower}–${f.upper})`);
    }
    // A date every few slots; none so near the right edge that it would be cut off.
    if (i % Math.ceil(all.length / 7) === 0 && left + i * step + 28 <= width) {
      shape(chart, "text", { x: left + i * step, y: height - 6 }, slot.key.slice(5));
    }
  });
  place("volume-chart", chart);
}

// What the forecast says in words, or why there is none.
export function describeForecast(forecast) {
  const note = $("forecast-note");
  note.dataset.state = forecast ? forecast.status : "loading";
  if (!forecast) {
    note.textContent = "Forecast: loading…";
  } else if (forecast.status === "ok") {
    const total = forecast.days.reduce((sum, d) => sum + d.point, 0);
    note.textContent = `Forecast: about ${Math.round(total)} tickets in the next ${forecast.horizon} days from today ` +
      `(shaded: the ${Math.round(forecast.level * 100)} % interval per day; ${forecast.model}, fitted on ${forecast.history_days} days).`;
  } else if (forecast.status === "short_history") {
    note.textContent = `No forecast yet: it needs ${forecast.min_history_days} complete days of tickets, ` +
      `and there ${forecast.history_days === 1 ? "is" : "are"} ${forecast.history_days}.`;
  } else {
    note.textContent = "No forecast yet: no tickets have arrived.";
  }
}

export function forecastFailed(message) {
  const note = $("forecast-note");
  note.dataset.state = "error";
  note.textContent = `Forecast unavailable: ${message}`;
}
