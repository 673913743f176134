/** What every component of a page shares for one configuration: tokens and the live hub. */

import { requestJson, TokenSource } from "./api";
import { configGeneration, getConfig, type TangibleConfig } from "./config";
import { createI18n, type I18n } from "./i18n";
import { LiveHub } from "./live";

export interface Session {
  config: TangibleConfig;
  generation: number;
  tokens: TokenSource;
  live: LiveHub;
  i18n: I18n;
  get<T>(url: string): Promise<T>;
  send<T>(method: string, url: string, body: unknown): Promise<T>;
}

let session: Session | undefined;

export function currentSession(): Session | undefined {
  const config = getConfig();
  if (!config) return undefined;
  const generation = configGeneration();
  if (session && session.generation === generation) return session;
  session?.live.stop();
  const tokens = new TokenSource(config.token);
  const account = encodeURIComponent(config.account);
  session = {
    config,
    generation,
    tokens,
    live: new LiveHub({
      url: `${config.notificationsUrl}/v1/accounts/${account}/stream`,
      tokens,
      pollInterval: config.pollInterval ?? 30000,
    }),
    i18n: createI18n(config.locale ?? (typeof navigator === "undefined" ? "en" : navigator.language), config.strings),
    get: <T>(url: string) => requestJson<T>(tokens, url),
    send: <T>(method: string, url: string, body: unknown) =>
      requestJson<T>(tokens, url, { method, body: JSON.stringify(body) }),
  };
  return session;
}
