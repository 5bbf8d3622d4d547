// The API client: the key lives in sessionStorage (this tab only), goes in the Authorization
// header, and never in a URL.

const KEY_ITEM = "swarm-learning.api-key";
const WORKSPACE_ITEM = "swarm-learning.workspace";

export class ApiError extends Error {
  constructor(status, body) {
    super(explain(status, body));
    this.status = status;
    this.body = body;
  }

  get refusedKey() {
    return this.status === 401 || this.status === 403;
  }
}

function explain(status, body) {
  const said = body && typeof body.message === "string" ? body.message : "";
  switch (status) {
    case 0:
      return `The API could not be reached${said ? `: ${said}` : ""}.`;
    case 401:
      return `The API key was refused (401): ${said || "invalid, revoked or expired API key"}. Enter a valid key.`;
    case 403:
      return `This API key may not use this workspace (403)${said ? `: ${said}` : ""}.`;
    case 404:
      return said || "Not found (404).";
    case 409:
      return said || "Conflicts with the current state (409).";
    case 429:
      return `Too many requests (429)${said ? `: ${said}` : ""}; try again shortly.`;
    default:
      return `The API answered ${status}${said ? `: ${said}` : ""}.`;
  }
}

export const session = {
  get key() {
    return sessionStorage.getItem(KEY_ITEM);
  },
  get workspace() {
    return sessionStorage.getItem(WORKSPACE_ITEM);
  },
  open(workspace, key) {
    sessionStorage.setItem(WORKSPACE_ITEM, workspace);
    sessionStorage.setItem(KEY_ITEM, key);
  },
  forget() {
    sessionStorage.removeItem(KEY_ITEM);
  },
};

let apiBase = null;

async function base() {
  if (apiBase === null) {
    const response = await fetch("config.json", { cache: "no-store" });
    const config = response.ok ? await response.json() : {};
    apiBase = String(config.api_base || "/api/v1/learning").replace(/\/$/, "");
  }
  return apiBase;
}

async function call(method, path, { query = {}, body } = {}) {
  const params = new URLSearchParams({ workspace_id: session.workspace });
  for (const [name, value] of Object.entries(query)) {
    if (value !== null && value !== undefined) params.set(name, String(value));
  }
  const url = `${await base()}${path}${method === "GET" ? `?${params}` : ""}`;
  let response;
  try {
    response = await fetch(url, {
      method,
      headers: {
        Authorization: `Bearer ${session.key}`,
        ...(body ? { "Content-Type": "application/json" } : {}),
      },
      body: body ? JSON.stringify({ workspace_id: session.workspace, ...body }) : undefined,
      cache: "no-store",
      credentials: "omit",
      referrerPolicy: "no-referrer",
    });
  } catch (error) {
    throw new ApiError(0, { message: error.message });
  }
  const text = await response.text();
  let parsed = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = { message: text.slice(0, 200) };
  }
  if (!response.ok) throw new ApiError(response.status, parsed);
  return parsed;
}

export const api = {
  get: (path, query) => call("GET", path, { query }),
  post: (path, body) => call("POST", path, { body }),
  /** Every page of a paginated list, as one array (`items`), following next_token. */
  async all(path, query = {}, { maxPages = 20 } = {}) {
    const items = [];
    let token = null;
    let first = null;
    for (let page = 0; page < maxPages; page += 1) {
      const answer = await call("GET", path, { query: { ...query, next_token: token } });
      first = first || answer;
      items.push(...answer.items);
      token = answer.next_token;
      if (!token) break;
    }
    return { ...first, items };
  },
};
