/**
 * The CLI against a running service (`--url` + a service key) through its admin HTTP API, for
 * what a direct Redis connection cannot reach (the in-memory backend of a development server) or
 * should not (operators without Redis credentials). Failures map to the CLI's exit codes.
 */
import { CliError, EXIT } from './context.js';

/** Deadline of one call to the service. */
export const SERVICE_TIMEOUT_MS = 10_000;

export interface ServiceResponse<T> {
  readonly status: number;
  readonly body: T;
}

/** A client of the service's admin API with a service key. */
export class ServiceClient {
  readonly baseUrl: string;
  readonly #key: string | null;

  constructor(baseUrl: string, key: string | null) {
    let url: URL;
    try {
      url = new URL(baseUrl);
    } catch {
      throw new CliError(
        EXIT.USAGE,
        `--url must be an http:// or https:// URL, got "${baseUrl.slice(0, 64)}"`,
      );
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new CliError(
        EXIT.USAGE,
        `--url must be an http:// or https:// URL, got "${baseUrl.slice(0, 64)}"`,
      );
    }
    this.baseUrl = url.toString().replace(/\/+$/, '');
    this.#key = key;
  }

  /**
   * Calls `method path`; resolves with the status and the parsed body for 2xx and for the
   * statuses in `accept`, throws a `CliError` with the matching exit code otherwise. A refused
   * connection fails at once (exit 69), not after the deadline.
   */
  async call<T>(
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    options: { auth?: boolean; accept?: readonly number[]; body?: unknown } = {},
  ): Promise<ServiceResponse<T>> {
    const headers: Record<string, string> = {};
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    if (options.auth ?? true) {
      if (this.#key === null) {
        throw new CliError(
          EXIT.CONFIG,
          'a service key is needed with --url: set OPTIX_SERVICE_KEY (or --service-key)',
        );
      }
      headers.authorization = `Bearer ${this.#key}`;
    }
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers,
        ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
        signal: AbortSignal.timeout(SERVICE_TIMEOUT_MS),
      });
    } catch (err) {
      throw new CliError(EXIT.UNAVAILABLE, `cannot reach the service at ${this.baseUrl}: ${reason(err)}`);
    }
    const text = await res.text();
    let body: unknown = null;
    try {
      body = text === '' ? null : JSON.parse(text);
    } catch {
      body = null;
    }
    if (res.ok || options.accept?.includes(res.status)) return { status: res.status, body: body as T };
    const error = (body as { error?: { code?: string; message?: string } } | null)?.error;
    const detail = error?.code ? `${error.message ?? ''} (${error.code})` : `HTTP ${res.status}`;
    if (res.status === 401 || res.status === 403) {
      throw new CliError(EXIT.NOPERM, `the service refused the service key: ${detail}`);
    }
    if (res.status === 404) throw new CliError(EXIT.NOT_FOUND, detail);
    if (res.status === 503) throw new CliError(EXIT.UNAVAILABLE, `the service is unavailable: ${detail}`);
    if (res.status >= 400 && res.status < 500) throw new CliError(EXIT.USAGE, detail);
    throw new CliError(EXIT.FAILURE, `the service failed: ${detail}`);
  }
}

/** Why fetch failed, in a word an operator knows (`connection refused`, `timed out`…). */
function reason(err: unknown): string {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (code === 'ECONNREFUSED') return 'connection refused';
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'host not found';
    if (e.name === 'TimeoutError') return `no answer within ${SERVICE_TIMEOUT_MS} ms`;
    if (typeof code === 'string') return code;
  }
  return err instanceof Error ? err.message : String(err);
}
