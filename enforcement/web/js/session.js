// The signed-in user's token and profile, kept for this browser tab only (sessionStorage).
// What the pages offer follows the profile's `permissions`, which the server computes
// (domain/authorization.py); no script compares role names.

const TOKEN_KEY = 'enforcement.token';
const USER_KEY = 'enforcement.user';

export function token() {
  return sessionStorage.getItem(TOKEN_KEY) || '';
}

export function user() {
  try {
    return JSON.parse(sessionStorage.getItem(USER_KEY) || 'null');
  } catch {
    return null;
  }
}

export function signIn(newToken, profile) {
  sessionStorage.setItem(TOKEN_KEY, newToken);
  sessionStorage.setItem(USER_KEY, JSON.stringify(profile));
}

export function signOut() {
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(USER_KEY);
}

/** Whether the signed-in user (or `profile`) holds the permission `name` (GET /api/v1/workbench/me). */
export function can(name, profile = user()) {
  return Boolean(profile && Array.isArray(profile.permissions) && profile.permissions.includes(name));
}

export function homePath(profile = user()) {
  if (can('read_court_indicators', profile)) return '/ui/dashboard';
  if (!can('list_cases', profile) && can('read_agencies', profile)) return '/ui/agencies'; // ops
  return '/ui/cases';
}
