/** HTTP to the services with a bearer token: one refresh on a 401, errors by kind. */

import type { TokenProvider } from "./config";

export type ErrorKind = "expired" | "forbidden" | "notfound" | "network" | "http";

export class ApiError extends Error {
  constructor(
    readonly kind: ErrorKind,
    readonly status = 0,
  ) {
    super(`${kind}${status ? ` (${status})` : ""}`);
  }
}

type Fetch = (input: string, init?: RequestInit) => Promise<Response>;

/**
 * Hands out the current token; `refresh()` asks the provider again, once for all callers
 * that saw the same stale token (several components failing together refresh once).
 */
export class TokenSource {
  private value: Promise<string> | undefined;
  private refreshing: Promise<string> | undefined;

  constructor(private readonly provider: TokenProvider) {}

  get refreshable(): boolean {
    return typeof this.provider === "function";
  }

  current(): Promise<string> {
    if (!this.value) this.value = this.fetch();
    return this.value;
  }

  /** A fresh token unless someone already replaced `stale`; undefined when not refreshable. */
  async refresh(stale: string): Promise<string | undefined> {
    if (!this.refreshable) return undefined;
    if (this.refreshing) return this.refreshing;
    const now = await this.current().catch(() => undefined);
    if (now !== undefined && now !== stale) return now;
    if (this.refreshing) return this.refreshing; // another caller started while we waited
    const refreshing = this.fetch().finally(() => {
      this.refreshing = undefined;
    });
    this.refreshing = refreshing;
    this.value = refreshing;
    return refreshing;
  }

  private fetch(): Promise<string> {
    const provider = this.provider;
    return typeof provider === "function" ? Promise.resolve().then(provider) : Promise.resolve(provider);
  }
}

function classify(status: number): ApiError {
  if (status === 401) return new ApiError("expired", status);
  if (status === 403) return new ApiError("forbidden", status);
  if (status === 404) return new ApiError("notfound", status);
  return new ApiError("http", status);
}

/**
 * `request(url, init)` with `Authorization: Bearer …`: on a 401 the token is refreshed and the
 * request retried once; a second 401 (or an unrefreshable token) is an "expired" error.
 */
export async function authorizedFetch(
  tokens: TokenSource,
  url: string,
  init: RequestInit = {},
  fetcher: Fetch = (input, options) => fetch(input, options),
): Promise<Response> {
  let token: string;
  try {
    token = await tokens.current();
  } catch {
    throw new ApiError("expired");
  }
  const send = async (bearer: string): Promise<Response> => {
    const headers = new Headers(init.headers);
    headers.set("Authorization", `Bearer ${bearer}`);
    try {
      return await fetcher(url, { ...init, headers });
    } catch (error) {
      if ((error as { name?: string }).name === "AbortError") throw error;
      throw new ApiError("network");
    }
  };
  let response = await send(token);
  if (response.status === 401) {
    let fresh: string | undefined;
    try {
      fresh = await tokens.refresh(token);
    } catch {
      fresh = undefined;
    }
    if (fresh === undefined) throw new ApiError("expired", 401);
    response = await send(fresh);
  }
  return response;
}

export async function requestJson<T>(
  tokens: TokenSource,
  url: string,
  init: RequestInit = {},
  fetcher?: Fetch,
): Promise<T> {
  const headers = new Headers(init.headers);
  headers.set("Accept", "application/json");
  if (init.body !== undefined) headers.set("Content-Type", "application/json");
  const response = await authorizedFetch(tokens, url, { ...init, headers }, fetcher);
  if (!response.ok) throw classify(response.status);
  return (await response.json()) as T;
}
