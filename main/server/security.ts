// Headers and checks of the web transport, as pure functions (unit-tested in test/transport).

import { timingSafeEqual } from 'node:crypto';
import { CONTENT_SECURITY_POLICY } from '../electron/csp';

export const CLIENT_HEADER = 'x-lethe-client';
/** The per-launch token travels in this header, and nowhere else (never a cookie, never the query). */
export const TOKEN_HEADER = 'x-lethe-token';
/** The cookie older builds set; a request that still carries one is refused (cookies reach every port of 127.0.0.1). */
export const LEGACY_COOKIE = 'lethe_token';

/** Sent on every response, whatever its status. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'X-Frame-Options': 'DENY',
});

/** Constant-time comparison of a presented token with the launch token. */
export function tokenMatches(presented: string | null | undefined, token: string): boolean {
  if (typeof presented !== 'string' || presented.length === 0) return false;
  const a = Buffer.from(presented, 'utf8');
  const b = Buffer.from(token, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Names of the cookies in every Cookie header of a request (raw header list: name, value, name, value...). */
export function cookieNames(rawHeaders: readonly string[]): string[] {
  const names: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (rawHeaders[i].toLowerCase() !== 'cookie') continue;
    for (const part of rawHeaders[i + 1].split(';')) {
      const eq = part.indexOf('=');
      names.push((eq === -1 ? part : part.slice(0, eq)).trim());
    }
  }
  return names;
}

/** Every value of one header in a raw header list (Node joins repeated unknown headers with ', '; this does not). */
export function headerValues(rawHeaders: readonly string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) if (rawHeaders[i].toLowerCase() === name) out.push(rawHeaders[i + 1]);
  return out;
}

/** Whether a URL query string names a token (`token=` or `lethe_token=`, any case). */
export function queryHasToken(search: string): boolean {
  for (const key of new URLSearchParams(search).keys()) {
    const k = key.toLowerCase();
    if (k === 'token' || k === LEGACY_COOKIE) return true;
  }
  return false;
}

/**
 * Why an API request (/api/*) must be refused, as one plain sentence, or null if it presents exactly
 * one X-Lethe-Token header with the launch token and no token anywhere else.
 */
export function apiTokenRefusal(request: { rawHeaders: readonly string[]; search: string }, token: string): string | null {
  if (queryHasToken(request.search)) return 'Refused: the access token must never be put in the URL query; send it in the X-Lethe-Token header.';
  if (cookieNames(request.rawHeaders).includes(LEGACY_COOKIE)) return 'Refused: the request carries a lethe_token cookie, which Lethe never accepts; send the token in the X-Lethe-Token header only.';
  const presented = headerValues(request.rawHeaders, TOKEN_HEADER);
  if (presented.length > 1) return 'Refused: the request carries more than one X-Lethe-Token header.';
  if (presented.length === 0 || !tokenMatches(presented[0], token)) return 'Missing or wrong access token; open the address Lethe printed (http://127.0.0.1:PORT/#token=...).';
  return null;
}

/** DNS-rebinding guard: the Host header must name exactly our loopback address and port. */
export function hostAllowed(host: string | undefined, port: number): boolean {
  return host === `127.0.0.1:${port}`;
}

/** A request may carry no Origin (same-origin GET, Node clients); if it does, it must be ours. */
export function originAllowed(origin: string | undefined, port: number): boolean {
  return origin === undefined || origin === `http://127.0.0.1:${port}`;
}

const STATUS_OF: Record<string, number> = {
  invalid_argument: 400,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  cancelled: 409,
  unavailable: 503,
  internal: 500,
};

export function httpStatusOf(code: string): number {
  return STATUS_OF[code] ?? 500;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.txt': 'text/plain; charset=utf-8',
  '.wasm': 'application/wasm',
};

export function contentTypeOf(file: string): string {
  const dot = file.lastIndexOf('.');
  return (dot >= 0 && TYPES[file.slice(dot).toLowerCase()]) || 'application/octet-stream';
}
