// session: where the demo gets its token. No secrets live in the page: the token comes from
// `?token=` (scripts/dev.sh prints such links) or is pasted, and stays in this tab only.
import { tokenExpiry } from '/pgrt.js';

const KEY = 'pgrt.demo.token';

/** The claims the page shows (sub, exp); the bridge is what verifies the token. */
export function claimsOf(token) {
  try {
    const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const claims = JSON.parse(atob(part.padEnd(part.length + ((4 - (part.length % 4)) % 4), '=')));
    return claims && typeof claims.sub === 'string' ? claims : null;
  } catch {
    return null;
  }
}

/** Why a token cannot be used, or null when it looks usable. */
export function tokenProblem(token) {
  if (!token) return 'no token';
  if (!claimsOf(token)) return 'this is not a JWT with a `sub` claim';
  const exp = tokenExpiry(token);
  if (exp !== null && exp * 1000 <= Date.now()) return 'this token has expired';
  return null;
}

/**
 * Takes `?token=` off the address bar (so it is not bookmarked, shared or screenshotted) into
 * sessionStorage: per tab, so two tabs can be two different users.
 */
export function loadToken() {
  const url = new URL(location.href);
  const fromUrl = url.searchParams.get('token');
  if (fromUrl) {
    sessionStorage.setItem(KEY, fromUrl.trim());
    url.searchParams.delete('token');
    history.replaceState(null, '', url.pathname + url.search + url.hash);
  }
  return sessionStorage.getItem(KEY);
}

export function saveToken(token) { sessionStorage.setItem(KEY, token.trim()); }

export function forgetToken() { sessionStorage.removeItem(KEY); }
