/**
 * Browser-mode sign-in of a console page. The login service (or the trading web app) sends the
 * user to `/<console>#code=<hand-off code>`: the code is in the URL fragment, which the browser
 * never sends to a server (so it is in no access log or Referer). The page takes it out of the
 * address bar at once, then exchanges it for the refresh cookie. Without a code (a reload, a
 * bookmark) the page signs in with the cookie it already has, if any.
 */
import { ApiError, type ApiClient } from './api.js';

export type SignInResult = 'signed-in' | 'signed-out';

/** Reads and removes `code` from the fragment (`#code=…`). */
export function takeHandoffCode(): string | null {
  const fragment = new URLSearchParams(location.hash.slice(1));
  const code = fragment.get('code');
  if (location.hash !== '') history.replaceState(null, '', location.pathname + location.search);
  return code !== null && code !== '' ? code : null;
}

/**
 * Signs in by hand-off code if the URL carries one, else by the refresh cookie. A code that fails
 * (expired, already used) falls back to the cookie: a reload of an old link still works.
 */
export async function signIn(api: ApiClient): Promise<SignInResult> {
  const code = takeHandoffCode();
  if (code !== null) {
    try {
      await api.signIn(code);
      return 'signed-in';
    } catch (err) {
      // A refused origin is a setup error: show it. Any other refusal: try the cookie.
      if (err instanceof ApiError && (err.status === 403 || err.status === 0)) throw err;
    }
  }
  return (await api.refresh()) ? 'signed-in' : 'signed-out';
}
