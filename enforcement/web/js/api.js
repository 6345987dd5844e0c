// Talking to /api/v1: the bearer token on every call, errors as ApiError with the server's
// own plain-words message in Chinese and English.

import * as session from './session.js';

export class ApiError extends Error {
  constructor(status, code, message, requestId = '', details = null) {
    super(message.en || message.zh || code);
    this.status = status;
    this.code = code;
    this.messages = message; // {zh, en}
    this.requestId = requestId;
    this.details = details;
  }
}

const listeners = new Set();

/** Called with every 401, so the app can send the user back to the sign-in page. */
export function onUnauthenticated(fn) {
  listeners.add(fn);
}

function networkError() {
  return new ApiError(0, 'network', {
    zh: '无法连接服务器，请检查网络后重试。',
    en: 'The server cannot be reached; check the network and try again.',
  });
}

export async function request(method, path, { body, auth = true, signal, accept = 'application/json' } = {}) {
  const headers = { Accept: accept };
  if (auth && session.token()) headers.Authorization = `Bearer ${session.token()}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let resp;
  try {
    resp = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch (err) {
    if (err && err.name === 'AbortError') throw err;
    throw networkError();
  }
  const type = resp.headers.get('Content-Type') || '';
  if (!resp.ok) {
    let err;
    if (type.includes('application/json')) {
      const data = await resp.json().catch(() => null);
      const e = data && data.error;
      if (e) err = new ApiError(resp.status, e.code, e.message || {}, e.request_id, e.details || null);
    }
    if (!err) {
      err = new ApiError(resp.status, `http_${resp.status}`, {
        zh: `服务器返回错误（${resp.status}）。`,
        en: `The server answered with an error (${resp.status}).`,
      });
    }
    if (resp.status === 401 && auth) listeners.forEach((fn) => fn(err));
    throw err;
  }
  if (type.includes('application/json')) return resp.json();
  if (accept !== 'application/json') return resp;
  return resp.text();
}

export const get = (path, opts) => request('GET', path, opts);
export const post = (path, body, opts) => request('POST', path, { ...opts, body });

/** Query string from an object, skipping empty values. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) {
    if (v === undefined || v === null || v === '' || v === false) continue;
    q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

/** An EventSource for a server-sent events URL; browsers cannot send headers, so the token
 * travels as ?access_token= (the API accepts it for event streams). */
export function events(url) {
  const sep = url.includes('?') ? '&' : '?';
  return new EventSource(`${url}${sep}access_token=${encodeURIComponent(session.token())}`);
}

/** Download a file from the API with the bearer token (a plain link cannot carry it). */
export async function download(path, fallbackName) {
  const resp = await request('GET', path, { accept: 'text/csv' });
  if (!(resp instanceof Response)) {
    // The server answered JSON or text instead of a file: offer it as such.
    const text = typeof resp === 'string' ? resp : JSON.stringify(resp);
    return saveBlob(new Blob([text], { type: 'text/plain;charset=utf-8' }), fallbackName);
  }
  const disposition = resp.headers.get('Content-Disposition') || '';
  const match = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition);
  const name = match ? decodeURIComponent(match[1]) : fallbackName;
  return saveBlob(await resp.blob(), name);
}

function saveBlob(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
  return name;
}
