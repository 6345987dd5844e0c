// The signed-in user's token and profile, kept for this browser tab only (sessionStorage).

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

export function homePath(profile = user()) {
  return profile && profile.role === 'supervisor' ? '/ui/dashboard' : '/ui/cases';
}
