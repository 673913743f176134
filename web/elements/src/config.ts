/** One configuration per page: `Tangible.configure({...})` or `data-*` on the script tag. */

import type { Strings } from "./i18n";

export interface UpgradeSuggestion {
  /** What to offer, e.g. "Growth plan". */
  title: string;
  /** Why, e.g. "You used 92 % of your reports two months in a row." */
  description?: string;
  /** Plan or add-on key, for the vendor's `onUpgrade`. */
  target?: string;
  feature_key?: string;
  [extra: string]: unknown;
}

export type TokenProvider = string | (() => Promise<string>);

export interface TangibleConfig {
  entitlementsUrl: string;
  rewardsUrl: string;
  notificationsUrl: string;
  account: string;
  user?: string;
  /** A bearer token, or a function that returns one; called again (once) after a 401. */
  token: TokenProvider;
  locale?: string;
  strings?: Partial<Strings>;
  onUpgrade?: (suggestion: UpgradeSuggestion) => void;
  upgradeUrl?: string;
  /** Polling interval (ms) when the live stream is not available; default 30 000. */
  pollInterval?: number;
  /** `light`, `dark` or `auto` (default: the `prefers-color-scheme`). */
  theme?: "light" | "dark" | "auto";
}

type Listener = () => void;

let current: Partial<TangibleConfig> = {};
let generation = 0;
const listeners = new Set<Listener>();

const trim = (url: string | undefined): string | undefined => (url ? url.replace(/\/+$/, "") : url);

export function configure(options: Partial<TangibleConfig>): void {
  const next: Partial<TangibleConfig> = { ...current, ...options };
  next.entitlementsUrl = trim(next.entitlementsUrl);
  next.rewardsUrl = trim(next.rewardsUrl);
  next.notificationsUrl = trim(next.notificationsUrl);
  current = next;
  generation++;
  for (const listener of [...listeners]) listener();
}

/** The configuration when it is complete enough to call the services, else undefined. */
export function getConfig(): TangibleConfig | undefined {
  const c = current;
  if (!c.entitlementsUrl || !c.rewardsUrl || !c.notificationsUrl || !c.account || !c.token) return undefined;
  return c as TangibleConfig;
}

/** Increases on every `configure`: work started under an older one is stale. */
export function configGeneration(): number {
  return generation;
}

export function onConfig(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** `data-entitlements-url`, `data-account`, `data-token`, … → options (plain-HTML embeds). */
export function configFromDataset(dataset: Record<string, string | undefined>): Partial<TangibleConfig> {
  const out: Partial<TangibleConfig> = {};
  const text = (key: string): string | undefined => {
    const value = dataset[key];
    return value === undefined || value === "" ? undefined : value;
  };
  const set = <K extends keyof TangibleConfig>(key: K, value: TangibleConfig[K] | undefined): void => {
    if (value !== undefined) out[key] = value;
  };
  set("entitlementsUrl", text("entitlementsUrl"));
  set("rewardsUrl", text("rewardsUrl"));
  set("notificationsUrl", text("notificationsUrl"));
  set("account", text("account"));
  set("user", text("user"));
  set("token", text("token"));
  set("locale", text("locale"));
  set("upgradeUrl", text("upgradeUrl"));
  const poll = text("pollInterval");
  if (poll !== undefined && /^\d+$/.test(poll)) out.pollInterval = Number(poll);
  const theme = text("theme");
  if (theme === "light" || theme === "dark" || theme === "auto") out.theme = theme;
  return out;
}
