// The console's only way to the broker: documented HTTP endpoints (docs/admin.md, docs/storage.md)
// with the credential as an Authorization header. The credential lives in this tab's
// sessionStorage: never in a URL, never in a cookie (so cross-site requests carry nothing), gone
// on sign-out or when the tab closes, and unreadable by scripts of any other origin.

const KEY = 'dstream.console.credential';

export function credential() {
  return sessionStorage.getItem(KEY);
}

export function remember(value) {
  sessionStorage.setItem(KEY, value);
}

export function forget() {
  sessionStorage.removeItem(KEY);
}

/** An HTTP error with the broker's {"error":{"code","message"}} unpacked. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

let onUnauthorized = () => {};

/** What to do when the broker stops accepting the credential (expired token, rotated key). */
export function whenUnauthorized(handler) {
  onUnauthorized = handler;
}

export function headers(extra = {}) {
  return {...extra, Authorization: `Bearer ${credential()}`};
}

/** fetch() with the credential; resolves to the Response, rejects with ApiError if not 2xx. */
export async function request(method, path, {body, contentType, token} = {}) {
  const init = {method, headers: {Authorization: `Bearer ${token ?? credential()}`}, cache: 'no-store'};
  if (body !== undefined) {
    init.body = body;
    init.headers['Content-Type'] = contentType ?? 'application/json';
  }
  const response = await fetch(path, init);
  if (!response.ok) {
    const error = await errorOf(response);
    if (response.status === 401 && token === undefined) onUnauthorized(error);
    throw error;
  }
  return response;
}

export async function errorOf(response) {
  const text = await response.text();
  try {
    const parsed = JSON.parse(text);
    if (parsed && parsed.error && typeof parsed.error === 'object') {
      return new ApiError(response.status, parsed.error.code, parsed.error.message);
    }
  } catch (ignored) {
    // not JSON: fall through to the status line
  }
  return new ApiError(response.status, 'http_' + response.status, text || response.statusText);
}

export async function getJson(path, options) {
  return (await request('GET', path, options)).json();
}

export function subjectPath(subject) {
  return '/admin/subjects/' + encodeURIComponent(subject);
}

/** /r2/{key} with each path segment percent-encoded, slashes kept. */
export function filePath(key) {
  return '/r2/' + key.split('/').map(encodeURIComponent).join('/');
}
