/**
 * Every text the components show, per locale, and `Intl` formatting. Vendors override any
 * entry with `Tangible.configure({ strings: { "rewards.title": "Bonus points" } })`.
 * `{name}` is replaced by a value; a key with `.one` / `.other` variants is chosen by
 * `Intl.PluralRules` on `{n}`.
 */

export const en = {
  "state.loading": "Loading…",
  "state.error": "This could not be loaded right now.",
  "state.retry": "Try again",
  "state.expired": "Your session has expired. Sign in again to see this.",
  "state.forbidden": "You do not have access to this account's data.",
  "state.unconfigured": "Waiting for configuration.",
  "state.updated": "Updated.",

  "value.title": "Your value",
  "value.headline": "≈ {value} {metric} {period}",
  "value.period.month": "this month",
  "value.period.quarter": "this quarter",
  "value.period.year": "this year",
  "value.feature.total": "{total} this period",
  "value.feature.impact": "≈ {value} {metric}",
  "value.cohort": "More than {percentile} of accounts on your plan",
  "value.sparkline": "{feature}: usage over the period, from {from} to {to}",
  "value.empty": "No usage recorded in this period yet.",

  "entitlements.title": "Your plan",
  "entitlements.empty": "No features are in force for this account.",
  "entitlements.usage": "{usage} of {limit} used",
  "entitlements.usage.unlimited": "{usage} used · unlimited",
  "entitlements.remaining": "{remaining} left",
  "entitlements.overage": "{overage} over the limit",
  "entitlements.resets": "Resets {date}",
  "entitlements.included": "Included",
  "entitlements.notIncluded": "Not included",
  "entitlements.config": "{value}",
  "entitlements.source.trial": "Trial until {date}",
  "entitlements.source.grant": "Bonus until {date}",
  "entitlements.source.grant.open": "Bonus",
  "entitlements.source.addon": "Add-on",
  "entitlements.bar": "{feature}: {usage} of {limit}",
  "entitlements.upgrade": "See upgrade",
  "entitlements.upgrade.title": "Suggested for you",
  "entitlements.suggestion.near_limit": "{feature}: {usage} of {limit} used, close to your limit.",
  "entitlements.suggestion.soft_limit_exceeded": "{feature}: {usage} used, over your limit of {limit}.",
  "entitlements.suggestion.seats_full": "All {limit} seats are taken.",

  "milestones.title": "Milestones",
  "milestones.empty": "No milestones yet.",
  "milestones.reached": "Reached",
  "milestones.next": "Next up",
  "milestones.progress": "{current} of {target}",
  "milestones.remaining": "{remaining} to go",
  "milestones.bar": "{name}: {percent}",
  "milestones.reward.credits": "Reward: {credits} credits",
  "milestones.reward.support_level": "Reward: {value} support",
  "milestones.reward.early_access": "Reward: early access to {value}",
  "milestones.reward.custom": "Reward: {value}",

  "rewards.title": "Credits",
  "rewards.balance": "Balance",
  "rewards.balance.value": "{amount} credits",
  "rewards.expiring": "{amount} expire on {date}",
  "rewards.expiring.none": "Nothing expires in the next {days} days.",
  "rewards.recent": "Recent activity",
  "rewards.empty": "No credit activity yet.",
  "rewards.kind.grant": "Earned",
  "rewards.kind.redemption": "Spent",
  "rewards.kind.expiry": "Expired",
  "rewards.kind.adjustment": "Adjustment",
  "rewards.kind.void": "Taken back",
  "rewards.catalog": "Redeem your credits",
  "rewards.catalog.price": "{amount} credits",
  "rewards.catalog.redeem": "Redeem",
  "rewards.catalog.redeemFor": "Redeem {name} for {amount} credits",
  "rewards.catalog.left.one": "{n} left",
  "rewards.catalog.left.other": "{n} left",
  "rewards.catalog.out_of_stock": "Out of stock",
  "rewards.catalog.not_yet_active": "Not available yet",
  "rewards.catalog.ended": "No longer available",
  "rewards.catalog.tooExpensive": "Not enough credits yet",
  "rewards.catalog.readOnly": "Ask your administrator to redeem these.",
  "rewards.catalog.redeemed": "Redeemed: {name}.",
  "rewards.catalog.refused": "{name} could not be redeemed: {reason}",

  "inbox.button": "Notifications",
  "inbox.button.unread.one": "Notifications, {n} unread",
  "inbox.button.unread.other": "Notifications, {n} unread",
  "inbox.title": "Notifications",
  "inbox.empty": "You are all caught up.",
  "inbox.markRead": "Mark as read",
  "inbox.markUnread": "Mark as unread",
  "inbox.markAllRead": "Mark all as read",
  "inbox.close": "Close",
  "inbox.unread": "Unread",
  "inbox.new.one": "{n} new notification",
  "inbox.new.other": "{n} new notifications",
  "inbox.preferences": "Preferences",
  "inbox.preferences.channel.inbox": "In the app",
  "inbox.preferences.channel.email": "By email",
  "inbox.preferences.mode.immediate": "Right away",
  "inbox.preferences.mode.daily": "Daily digest",
  "inbox.preferences.mode.weekly": "Weekly digest",
  "inbox.preferences.mode.off": "Off",
  "inbox.preferences.save": "Save preferences",
  "inbox.preferences.saved": "Preferences saved.",
  "inbox.preferences.timezone": "Time zone: {zone}",
  "inbox.preferences.quiet": "Quiet hours: {start}–{end}",
};

export type StringKey = keyof typeof en;
export type Strings = Record<StringKey, string>;

export const de: Strings = {
  "state.loading": "Wird geladen …",
  "state.error": "Das konnte gerade nicht geladen werden.",
  "state.retry": "Erneut versuchen",
  "state.expired": "Ihre Sitzung ist abgelaufen. Melden Sie sich erneut an, um dies zu sehen.",
  "state.forbidden": "Sie haben keinen Zugriff auf die Daten dieses Kontos.",
  "state.unconfigured": "Warte auf die Konfiguration.",
  "state.updated": "Aktualisiert.",

  "value.title": "Ihr Nutzen",
  "value.headline": "≈ {value} {metric} {period}",
  "value.period.month": "in diesem Monat",
  "value.period.quarter": "in diesem Quartal",
  "value.period.year": "in diesem Jahr",
  "value.feature.total": "{total} in diesem Zeitraum",
  "value.feature.impact": "≈ {value} {metric}",
  "value.cohort": "Mehr als {percentile} der Konten in Ihrem Tarif",
  "value.sparkline": "{feature}: Nutzung im Zeitraum vom {from} bis {to}",
  "value.empty": "In diesem Zeitraum wurde noch keine Nutzung erfasst.",

  "entitlements.title": "Ihr Tarif",
  "entitlements.empty": "Für dieses Konto sind keine Funktionen aktiv.",
  "entitlements.usage": "{usage} von {limit} genutzt",
  "entitlements.usage.unlimited": "{usage} genutzt · unbegrenzt",
  "entitlements.remaining": "noch {remaining}",
  "entitlements.overage": "{overage} über dem Limit",
  "entitlements.resets": "Wird am {date} zurückgesetzt",
  "entitlements.included": "Enthalten",
  "entitlements.notIncluded": "Nicht enthalten",
  "entitlements.config": "{value}",
  "entitlements.source.trial": "Testphase bis {date}",
  "entitlements.source.grant": "Bonus bis {date}",
  "entitlements.source.grant.open": "Bonus",
  "entitlements.source.addon": "Zusatzpaket",
  "entitlements.bar": "{feature}: {usage} von {limit}",
  "entitlements.upgrade": "Upgrade ansehen",
  "entitlements.upgrade.title": "Empfehlung für Sie",
  "entitlements.suggestion.near_limit": "{feature}: {usage} von {limit} genutzt, nahe an Ihrem Limit.",
  "entitlements.suggestion.soft_limit_exceeded": "{feature}: {usage} genutzt, über Ihrem Limit von {limit}.",
  "entitlements.suggestion.seats_full": "Alle {limit} Plätze sind vergeben.",

  "milestones.title": "Meilensteine",
  "milestones.empty": "Noch keine Meilensteine.",
  "milestones.reached": "Erreicht",
  "milestones.next": "Als Nächstes",
  "milestones.progress": "{current} von {target}",
  "milestones.remaining": "noch {remaining}",
  "milestones.bar": "{name}: {percent}",
  "milestones.reward.credits": "Belohnung: {credits} Credits",
  "milestones.reward.support_level": "Belohnung: {value}-Support",
  "milestones.reward.early_access": "Belohnung: früher Zugang zu {value}",
  "milestones.reward.custom": "Belohnung: {value}",

  "rewards.title": "Credits",
  "rewards.balance": "Guthaben",
  "rewards.balance.value": "{amount} Credits",
  "rewards.expiring": "{amount} verfallen am {date}",
  "rewards.expiring.none": "In den nächsten {days} Tagen verfällt nichts.",
  "rewards.recent": "Letzte Buchungen",
  "rewards.empty": "Noch keine Buchungen.",
  "rewards.kind.grant": "Erhalten",
  "rewards.kind.redemption": "Eingelöst",
  "rewards.kind.expiry": "Verfallen",
  "rewards.kind.adjustment": "Korrektur",
  "rewards.kind.void": "Zurückgenommen",
  "rewards.catalog": "Credits einlösen",
  "rewards.catalog.price": "{amount} Credits",
  "rewards.catalog.redeem": "Einlösen",
  "rewards.catalog.redeemFor": "{name} für {amount} Credits einlösen",
  "rewards.catalog.left.one": "Noch {n}",
  "rewards.catalog.left.other": "Noch {n}",
  "rewards.catalog.out_of_stock": "Ausverkauft",
  "rewards.catalog.not_yet_active": "Noch nicht verfügbar",
  "rewards.catalog.ended": "Nicht mehr verfügbar",
  "rewards.catalog.tooExpensive": "Noch nicht genug Credits",
  "rewards.catalog.readOnly": "Ihre Administration kann diese einlösen.",
  "rewards.catalog.redeemed": "Eingelöst: {name}.",
  "rewards.catalog.refused": "{name} konnte nicht eingelöst werden: {reason}",

  "inbox.button": "Benachrichtigungen",
  "inbox.button.unread.one": "Benachrichtigungen, {n} ungelesen",
  "inbox.button.unread.other": "Benachrichtigungen, {n} ungelesen",
  "inbox.title": "Benachrichtigungen",
  "inbox.empty": "Sie sind auf dem neuesten Stand.",
  "inbox.markRead": "Als gelesen markieren",
  "inbox.markUnread": "Als ungelesen markieren",
  "inbox.markAllRead": "Alle als gelesen markieren",
  "inbox.close": "Schließen",
  "inbox.unread": "Ungelesen",
  "inbox.new.one": "{n} neue Benachrichtigung",
  "inbox.new.other": "{n} neue Benachrichtigungen",
  "inbox.preferences": "Einstellungen",
  "inbox.preferences.channel.inbox": "In der App",
  "inbox.preferences.channel.email": "Per E-Mail",
  "inbox.preferences.mode.immediate": "Sofort",
  "inbox.preferences.mode.daily": "Tägliche Zusammenfassung",
  "inbox.preferences.mode.weekly": "Wöchentliche Zusammenfassung",
  "inbox.preferences.mode.off": "Aus",
  "inbox.preferences.save": "Einstellungen speichern",
  "inbox.preferences.saved": "Einstellungen gespeichert.",
  "inbox.preferences.timezone": "Zeitzone: {zone}",
  "inbox.preferences.quiet": "Ruhezeit: {start}–{end}",
};

export const tables: Record<string, Strings> = { en, de };

export type Vars = Record<string, string | number>;

export interface I18n {
  locale: string;
  t(key: StringKey | `${StringKey}.${string}` | string, vars?: Vars): string;
  number(value: number, digits?: number): string;
  percent(value: number): string;
  date(value: string | Date): string;
  dateTime(value: string | Date): string;
}

/** The table for a locale: exact tag, then its language ("de-AT" → de), else English. */
export function tableFor(locale: string): Strings {
  const tag = locale.toLowerCase();
  return tables[tag] ?? tables[tag.split("-")[0] ?? "en"] ?? en;
}

export function createI18n(locale: string, overrides: Partial<Record<string, string>> = {}): I18n {
  let resolved: string;
  try {
    resolved = Intl.getCanonicalLocales(locale)[0] ?? "en";
  } catch {
    resolved = "en";
  }
  const table: Record<string, string> = { ...tableFor(resolved), ...overrides } as Record<string, string>;
  const plurals = new Intl.PluralRules(resolved);
  const numbers = new Map<number, Intl.NumberFormat>();
  const percent = new Intl.NumberFormat(resolved, { style: "percent", maximumFractionDigits: 0 });
  const dates = new Intl.DateTimeFormat(resolved, { dateStyle: "medium" });
  const dateTimes = new Intl.DateTimeFormat(resolved, { dateStyle: "medium", timeStyle: "short" });
  const asDate = (value: string | Date): Date => (value instanceof Date ? value : new Date(value));

  return {
    locale: resolved,
    t(key, vars = {}) {
      let template: string | undefined;
      if (typeof vars.n === "number") template = table[`${key}.${plurals.select(vars.n)}`] ?? table[`${key}.other`];
      template ??= table[key] ?? key;
      return template.replace(/\{(\w+)\}/g, (whole, name: string) =>
        name in vars ? String(vars[name]) : whole,
      );
    },
    number(value, digits = 2) {
      let format = numbers.get(digits);
      if (!format) {
        format = new Intl.NumberFormat(resolved, { maximumFractionDigits: digits });
        numbers.set(digits, format);
      }
      return format.format(value);
    },
    percent: (value) => percent.format(value / 100),
    date: (value) => dates.format(asDate(value)),
    dateTime: (value) => dateTimes.format(asDate(value)),
  };
}
