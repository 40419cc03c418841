/**
 * The consoles' client of the public HTTP API, in browser mode: the refresh token lives only in the
 * service's `HttpOnly` cookie (`Path=/v1/browser`), the access token only in this module's memory
 * (never `localStorage`). Cookie routes carry `X-OPTIX-CSRF: 1` (the service's CSRF defence); API
 * calls carry `Authorization: Bearer <access token>`. A 401 on an API call refreshes once by
 * cookie (one refresh in flight however many calls wait) and retries; if that fails, the user is
 * signed out (`onSignedOut`).
 */

/** Header every cookie route requires (src/http/browser.ts). */
export const CSRF_HEADER = 'x-optix-csrf';

/** An error answer of the API (`{ error: { code, message } }`), or a network failure (`status` 0). */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

interface TokenAnswer {
  accessToken: string;
  expiresIn: number;
}

export interface ApiClientOptions {
  /** Origin of the service (default: the page's own, where the consoles are served). */
  readonly base?: string;
  /** Called once when the session is gone (refresh refused): show the signed-out state. */
  readonly onSignedOut?: () => void;
}

export interface ApiClient {
  /** Exchanges a one-time hand-off code for the refresh cookie and an access token. */
  signIn(code: string): Promise<void>;
  /** Gets a new access token by cookie; `false` when there is no valid cookie (signed out). */
  refresh(): Promise<boolean>;
  /** Logs out: revokes the cookie's refresh family, ends the session, clears the cookie. */
  signOut(): Promise<void>;
  /** An API call with the access token (JSON in and out; `null` for 204). */
  call<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T>;
  /** The claims of the current access token (not verified: display only), or `null`. */
  claims(): Record<string, unknown> | null;
}

async function errorOf(res: Response): Promise<ApiError> {
  try {
    const body = (await res.json()) as { error?: { code?: string; message?: string } };
    return new ApiError(res.status, body.error?.code ?? 'ERR_UNKNOWN', body.error?.message ?? res.statusText);
  } catch {
    return new ApiError(res.status, 'ERR_UNKNOWN', res.statusText || `HTTP ${res.status}`);
  }
}

async function send(input: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(input, init);
  } catch {
    throw new ApiError(0, 'ERR_NETWORK', 'the service could not be reached; check your connection');
  }
}

/** Decodes a JWT's payload for display (the service verifies it; the page never trusts it). */
export function decodeClaims(token: string): Record<string, unknown> | null {
  const part = token.split('.')[1];
  if (part === undefined) return null;
  try {
    const b64 = part.replace(/-/g, '+').replace(/_/g, '/');
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
  } catch {
    return null;
  }
}

export function createApiClient(options: ApiClientOptions = {}): ApiClient {
  const base = options.base ?? '';
  let accessToken: string | null = null;
  let refreshing: Promise<boolean> | null = null;
  let signedOutNotified = false;

  const cookieRoute = (path: string, body?: unknown) =>
    send(base + path, {
      method: 'POST',
      credentials: 'same-origin',
      headers: {
        [CSRF_HEADER]: '1',
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });

  const signedOut = () => {
    accessToken = null;
    if (!signedOutNotified) {
      signedOutNotified = true;
      options.onSignedOut?.();
    }
  };

  async function doRefresh(): Promise<boolean> {
    const res = await cookieRoute('/v1/browser/refresh');
    if (res.ok) {
      accessToken = ((await res.json()) as TokenAnswer).accessToken;
      signedOutNotified = false;
      return true;
    }
    if (res.status === 401) return false;
    // 403: the service refuses this page's origin (CORS_ORIGINS): a setup error to show, not a sign-out.
    throw await errorOf(res);
  }

  const client: ApiClient = {
    async signIn(code) {
      const res = await cookieRoute('/v1/browser/session', { code });
      if (!res.ok) throw await errorOf(res);
      accessToken = ((await res.json()) as TokenAnswer).accessToken;
      signedOutNotified = false;
    },
    refresh() {
      // One refresh at a time: concurrent callers share it (a second rotation of the same cookie
      // would only be answered from the grace window).
      refreshing ??= doRefresh().finally(() => {
        refreshing = null;
      });
      return refreshing;
    },
    async signOut() {
      const res = await cookieRoute('/v1/browser/logout');
      if (!res.ok && res.status !== 401) throw await errorOf(res);
      signedOut();
    },
    async call<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
      const attempt = () =>
        send(base + path, {
          method,
          headers: {
            ...(accessToken !== null ? { authorization: `Bearer ${accessToken}` } : {}),
            ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          },
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        });
      let res = await attempt();
      if (res.status === 401) {
        if (!(await client.refresh())) {
          signedOut();
          throw await errorOf(res);
        }
        res = await attempt();
        if (res.status === 401) signedOut();
      }
      if (!res.ok) throw await errorOf(res);
      if (res.status === 204) return null as T;
      return (await res.json()) as T;
    },
    claims: () => (accessToken === null ? null : decodeClaims(accessToken)),
  };
  return client;
}

/** A trusted device as `/v1/me/devices` and the operator routes answer it. */
export interface DeviceView {
  deviceId: string;
  deviceName: string;
  deviceType: string;
  trustedAt: number;
  expiresAt: number;
}
