// Shared by the console and the help page: JSON requests whose failures carry the
// server's RFC 9457 problem document, so every page can show the API's own `detail`.

export class ApiError extends Error {
  constructor(status, title, detail, extra = {}) {
    super(detail || title);
    this.name = "ApiError";
    this.status = status;
    this.title = title;
    this.detail = detail;
    this.extra = extra;
  }

  // Worth retrying with the same idempotency key: the request may not have been applied.
  get retryable() {
    return this.status === 0 || this.status === 408 || this.status === 429 || this.status >= 500;
  }
}

const STATUS_TITLES = {
  400: "Bad request",
  401: "Not signed in",
  403: "Not allowed",
  404: "Not found",
  409: "Conflict",
  413: "Too large",
  422: "Invalid input",
  429: "Too many requests",
  500: "Server error",
  503: "Service unavailable",
};

async function parseBody(response) {
  const type = response.headers.get("content-type") || "";
  if (type.includes("json")) {
    try {
      return await response.json();
    } catch {
      return null;
    }
  }
  const text = await response.text();
  return text ? { detail: text.slice(0, 500) } : null;
}

// FastAPI's own validation errors put a list in `detail`; make it one readable line.
function describe(detail) {
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) {
    return detail
      .map((item) => {
        const where = Array.isArray(item.loc) ? item.loc.filter((p) => p !== "body").join(".") : "";
        return where ? `${where}: ${item.msg}` : String(item.msg ?? JSON.stringify(item));
      })
      .join("; ");
  }
  if (detail == null) return "";
  return JSON.stringify(detail);
}

export async function requestJson(url, { method = "GET", headers = {}, body } = {}) {
  const init = { method, headers: { Accept: "application/json, application/problem+json", ...headers } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(url, init);
  } catch {
    throw new ApiError(0, "Network error", "The server could not be reached. Check your connection and try again.");
  }
  const data = await parseBody(response);
  if (!response.ok) {
    const problem = data && typeof data === "object" ? data : {};
    const title = problem.title || STATUS_TITLES[response.status] || `HTTP ${response.status}`;
    const detail = describe(problem.detail ?? problem.errors) || response.statusText;
    const retryAfter = response.headers.get("retry-after");
    throw new ApiError(response.status, title, detail, { ...problem, retryAfter });
  }
  return data;
}

// crypto.randomUUID only exists in secure contexts; an intranet console may be plain HTTP.
export function newUuid() {
  if (globalThis.crypto && typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

// Only http(s) targets become links: a citation URL is data, never a javascript: URL.
export function safeHref(url) {
  if (typeof url !== "string" || !url) return null;
  try {
    const parsed = new URL(url, window.location.href);
    return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : null;
  } catch {
    return null;
  }
}

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value == null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child == null) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function humanise(slug) {
  const words = decodeURIComponent(slug).replace(/\.[a-z0-9]+$/i, "").replace(/[-_]+/g, " ").trim();
  return words ? words.charAt(0).toUpperCase() + words.slice(1) : "";
}

// "Quote system › Best practices" from doc_id + URL anchor: readable, and still tells
// two passages of one page apart.
export function citationLabel(citation) {
  if (citation.title) return String(citation.title);
  const path = String(citation.doc_id || citation.source || "");
  const page = humanise(path.split("/").pop() || "");
  let section = "";
  try {
    section = citation.url ? humanise(new URL(citation.url).hash.slice(1)) : "";
  } catch {
    section = "";
  }
  if (page && section && section.toLowerCase() !== page.toLowerCase()) return `${page} › ${section}`;
  return page || section || String(citation.url || "source");
}
