/** Pure view models of the services' answers (tested without a DOM). */

export type Period = "month" | "quarter" | "year";

const iso = (d: Date): string =>
  `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;

/** The current month, quarter or year up to today, as local `YYYY-MM-DD` dates. */
export function periodRange(period: Period, now: Date): { from: string; to: string } {
  const month = period === "month" ? now.getMonth() : period === "quarter" ? now.getMonth() - (now.getMonth() % 3) : 0;
  return { from: iso(new Date(now.getFullYear(), month, 1)), to: iso(now) };
}

export function defaultGranularity(period: Period): "day" | "week" | "month" {
  return period === "month" ? "day" : period === "quarter" ? "week" : "month";
}

/** An SVG polyline's points for `values` in a width × height box (higher is up). */
export function sparklinePoints(values: number[], width: number, height: number, pad = 2): string {
  if (values.length === 0) return "";
  const max = Math.max(...values, 0);
  const min = Math.min(...values, 0);
  const span = max - min || 1;
  const step = values.length > 1 ? (width - 2 * pad) / (values.length - 1) : 0;
  const round = (n: number): number => Math.round(n * 10) / 10;
  return values
    .map((v, i) => {
      const x = values.length > 1 ? pad + i * step : width / 2;
      const y = height - pad - ((v - min) / span) * (height - 2 * pad);
      return `${round(x)},${round(y)}`;
    })
    .join(" ");
}

/** usage / limit in [0, 100] for a progress bar; undefined without a limit. */
export function usagePercent(usage: number, limit: number | null): number | undefined {
  if (limit === null || limit === undefined) return undefined;
  if (limit <= 0) return usage > 0 ? 100 : 0;
  return Math.max(0, Math.min(100, (usage / limit) * 100));
}

export interface Bucket {
  amount: string | number;
  expires_at: string | null;
}

/** Credit that expires within `days` of `now`: the sum and the first date. */
export function expiringSoon(
  buckets: Bucket[],
  now: Date,
  days: number,
): { amount: number; date: string } | undefined {
  const horizon = now.getTime() + days * 86400000;
  const soon = buckets.filter(
    (b) => b.expires_at !== null && Date.parse(b.expires_at) <= horizon && Date.parse(b.expires_at) > now.getTime(),
  );
  if (soon.length === 0) return undefined;
  const first = soon.map((b) => b.expires_at as string).sort((a, b) => Date.parse(a) - Date.parse(b))[0] as string;
  return { amount: soon.reduce((sum, b) => sum + Number(b.amount), 0), date: first };
}

export interface Milestone {
  rule_key: string;
  name: string;
  current: number;
  target: number;
  percent: number;
  remaining: number;
  reached: boolean;
  status: string;
  unit: string;
  reward: { kind: string; credits?: string | number | null; support_level?: string | null; feature_key?: string | null; name?: string | null };
}

/** Reached ones, and the ones in progress, closest to done first. */
export function splitMilestones(milestones: Milestone[]): { reached: Milestone[]; next: Milestone[] } {
  const reached = milestones.filter((m) => m.reached || m.status === "reached");
  const next = milestones
    .filter((m) => !(m.reached || m.status === "reached") && m.status !== "missed")
    .sort((a, b) => b.percent - a.percent || a.name.localeCompare(b.name));
  return { reached, next };
}

export interface LedgerEntry {
  entry_id: number;
  kind: string;
  amount: string | number;
  created_at: string;
  provenance: Record<string, unknown>;
}

/** What a ledger entry was for, from its provenance, in the customer's words where given. */
export function ledgerNote(entry: LedgerEntry): string {
  const p = entry.provenance;
  for (const key of ["description", "reason", "rule_name", "name", "rule_key"]) {
    const value = p[key];
    if (typeof value === "string" && value) return value;
  }
  return "";
}

/** The sign of a ledger amount as text: "+100", "−5" (a real minus sign). */
export function signed(amount: number, format: (n: number) => string): string {
  if (amount > 0) return `+${format(amount)}`;
  if (amount < 0) return `−${format(-amount)}`;
  return format(0);
}

/**
 * The claims of a JWT, read without verifying it: only to decide what to offer (a Redeem
 * button); the services verify the token and enforce every permission.
 */
export function tokenClaims(token: string): Record<string, unknown> {
  const part = token.split(".")[1];
  if (!part) return {};
  try {
    const base64 = part.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(part.length / 4) * 4, "=");
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    const claims: unknown = JSON.parse(new TextDecoder().decode(bytes));
    return claims && typeof claims === "object" && !Array.isArray(claims) ? (claims as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** May this token redeem catalogue items? A portal token with `redeem`, or an admin one. */
export function canRedeem(claims: Record<string, unknown>): boolean {
  const has = (list: unknown, value: string): boolean => Array.isArray(list) && list.includes(value);
  return has(claims.prm, "redeem") || has(claims.scp, "admin");
}

export interface SuggestionEvidence {
  feature_key: string;
  usage: number;
  limit: number | null;
}

/** entitlements' `GET …/upgrade-suggestions` item. */
export interface ApiSuggestion {
  reason: "near_limit" | "seats_full" | "soft_limit_exceeded";
  suggestion_kind: "plan" | "addon";
  suggestion_key: string;
  suggestion_name: string | null;
  evidence: SuggestionEvidence[];
  [extra: string]: unknown;
}

/** What the description of a suggestion says: its reason, about its latest evidence. */
export function suggestionReason(s: ApiSuggestion): { key: string; feature: string; usage: number; limit: number } | undefined {
  const last = s.evidence[s.evidence.length - 1];
  if (!last) return undefined;
  return { key: `entitlements.suggestion.${s.reason}`, feature: last.feature_key, usage: last.usage, limit: last.limit ?? 0 };
}

/** A catalogue item as rewards lists it. */
export interface CatalogItem {
  key: string;
  name: string;
  description: string | null;
  price: string;
  unit: string;
  stock: number | null;
  availability: "available" | "not_yet_active" | "ended" | "out_of_stock";
}

/** Can this item be bought now with this balance (the server decides; this only disables)? */
export function affordable(item: CatalogItem, balance: string): boolean {
  return item.availability === "available" && Number(item.price) <= Number(balance);
}

/** A fresh Idempotency-Key for one purchase attempt. */
export function idempotencyKey(): string {
  const c = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto;
  return c?.randomUUID ? c.randomUUID() : `k-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}
