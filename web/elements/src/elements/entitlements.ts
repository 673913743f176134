/** `<tangible-entitlements>`: each feature's usage against its limit, resets, trials and grants. */

import { TangibleElement } from "../base";
import type { UpgradeSuggestion } from "../config";
import { esc } from "../html";
import { type ApiSuggestion, suggestionReason, usagePercent } from "../model";
import type { Session } from "../session";

interface Entitlement {
  feature_key: string;
  kind: "boolean" | "metered" | "seats" | "config";
  has_access: boolean;
  limit: number | null;
  usage: number;
  remaining: number | null;
  overage: number;
  limit_type: "hard" | "soft";
  period_end: string | null;
  config: unknown;
  sources: Array<{ kind: "plan" | "addon" | "trial" | "grant"; key: string; expires_at: string | null }>;
}

interface Data {
  entitlements: Entitlement[];
  names: Record<string, string>;
  suggested: ApiSuggestion[];
}

export class TangibleEntitlements extends TangibleElement<Data> {
  protected readonly titleKey = "entitlements.title";
  protected readonly emptyKey = "entitlements.empty";
  private given: UpgradeSuggestion[] | undefined;
  private suggestionList: UpgradeSuggestion[] = [];

  /**
   * The upgrade suggestions offered: entitlements' open ones (`GET …/upgrade-suggestions`),
   * unless the vendor sets its own here (an empty list hides them).
   */
  get suggestions(): UpgradeSuggestion[] {
    return this.suggestionList;
  }

  set suggestions(value: UpgradeSuggestion[] | UpgradeSuggestion | null | undefined) {
    this.given = value === null || value === undefined ? undefined : Array.isArray(value) ? value : [value];
    this.render();
  }

  protected async load(session: Session): Promise<Data> {
    const account = encodeURIComponent(session.config.account);
    const base = session.config.entitlementsUrl;
    const [list, glossary, suggested] = await Promise.all([
      session.get<{ entitlements: Entitlement[] }>(`${base}/v1/accounts/${account}/entitlements`),
      session
        .get<{ items: Array<{ feature_key: string; name: string }> }>(`${base}/v1/glossary?limit=500`)
        .catch(() => ({ items: [] })),
      session
        .get<{ suggestions: ApiSuggestion[] }>(`${base}/v1/accounts/${account}/upgrade-suggestions`)
        .catch(() => ({ suggestions: [] })),
    ]);
    const names: Record<string, string> = {};
    for (const entry of glossary.items) names[entry.feature_key] = entry.name;
    return { entitlements: list.entitlements, names, suggested: suggested.suggestions };
  }

  /** entitlements' suggestions in the shape `onUpgrade` receives (the API's fields kept). */
  private fetched(data: Data, session: Session): UpgradeSuggestion[] {
    const { t, number } = session.i18n;
    return data.suggested.map((s) => {
      const reason = suggestionReason(s);
      const description = reason
        ? t(reason.key, {
            feature: data.names[reason.feature] ?? reason.feature,
            usage: number(reason.usage),
            limit: number(reason.limit),
          })
        : undefined;
      return {
        ...s,
        title: s.suggestion_name ?? s.suggestion_key,
        ...(description ? { description } : {}),
        target: s.suggestion_key,
        ...(reason ? { feature_key: reason.feature } : {}),
      };
    });
  }

  protected isEmpty(data: Data): boolean {
    return data.entitlements.length === 0;
  }

  protected onAction(action: string, target: HTMLElement, event: Event): void {
    if (action === "upgrade") {
      const suggestion = this.suggestionList[Number(target.dataset.index)];
      const handler = this.session?.config.onUpgrade;
      if (suggestion && handler) {
        event.preventDefault();
        handler(suggestion);
      }
      this.dispatchEvent(new CustomEvent("tangible-upgrade", { detail: suggestion, bubbles: true, composed: true }));
      return;
    }
    super.onAction(action, target, event);
  }

  private upgradeMarkup(session: Session): string {
    const { onUpgrade, upgradeUrl } = session.config;
    const t = session.i18n.t;
    const offers = this.suggestionList
      .map((s, index) => {
        const action =
          upgradeUrl && !onUpgrade
            ? `<a class="button primary" part="button upgrade-button" data-action="upgrade" data-index="${index}" href="${esc(upgradeUrl)}">${esc(t("entitlements.upgrade"))}</a>`
            : onUpgrade
              ? `<button type="button" class="primary" part="button upgrade-button" data-action="upgrade" data-index="${index}">${esc(t("entitlements.upgrade"))}</button>`
              : "";
        return `<div class="upgrade" part="upgrade"><p class="muted">${esc(t("entitlements.upgrade.title"))}</p><p class="name">${esc(s.title)}</p>${s.description ? `<p>${esc(s.description)}</p>` : ""}<p>${action}</p></div>`;
      })
      .join("");
    return `${offers}<slot name="upgrade"></slot>`;
  }

  protected renderData(data: Data, session: Session): string {
    const { t, number, date } = session.i18n;
    this.suggestionList = this.given ?? this.fetched(data, session);
    const items = data.entitlements
      .map((e) => {
        const name = data.names[e.feature_key] ?? e.feature_key;
        let body = "";
        if (e.kind === "metered" || e.kind === "seats") {
          const pct = usagePercent(e.usage, e.limit);
          if (pct !== undefined && e.limit !== null) {
            const full = pct >= 100;
            body += `<div class="bar" part="bar" role="progressbar" aria-valuemin="0" aria-valuemax="${esc(e.limit)}" aria-valuenow="${esc(Math.min(e.usage, e.limit))}" aria-label="${esc(t("entitlements.bar", { feature: name, usage: number(e.usage), limit: number(e.limit) }))}"><div class="fill${full ? " full" : ""}" part="bar-fill" style="width:${pct.toFixed(1)}%"></div></div>`;
            body += `<div class="row"><span part="usage">${esc(t("entitlements.usage", { usage: number(e.usage), limit: number(e.limit) }))}</span>${e.remaining !== null && e.remaining > 0 ? `<span class="muted">${esc(t("entitlements.remaining", { remaining: number(e.remaining) }))}</span>` : ""}</div>`;
          } else {
            body += `<p part="usage">${esc(t("entitlements.usage.unlimited", { usage: number(e.usage) }))}</p>`;
          }
          if (e.overage > 0) body += `<p class="negative">${esc(t("entitlements.overage", { overage: number(e.overage) }))}</p>`;
          if (e.period_end) body += `<p class="muted" part="reset">${esc(t("entitlements.resets", { date: date(e.period_end) }))}</p>`;
        } else if (e.kind === "boolean") {
          body += `<p part="usage">${esc(t(e.has_access ? "entitlements.included" : "entitlements.notIncluded"))}</p>`;
        } else if (e.config !== null && e.config !== undefined) {
          body += `<p part="usage">${esc(t("entitlements.config", { value: typeof e.config === "string" ? e.config : JSON.stringify(e.config) }))}</p>`;
        }
        const badges = e.sources
          .filter((s) => s.kind !== "plan")
          .map((s) => {
            const text =
              s.kind === "trial"
                ? t("entitlements.source.trial", { date: s.expires_at ? date(s.expires_at) : "" })
                : s.kind === "grant"
                  ? s.expires_at
                    ? t("entitlements.source.grant", { date: date(s.expires_at) })
                    : t("entitlements.source.grant.open")
                  : `${t("entitlements.source.addon")}: ${s.key}`;
            return `<span class="badge ${esc(s.kind)}" part="badge badge-${esc(s.kind)}">${esc(text)}</span>`;
          })
          .join("");
        return `<li part="item" data-feature="${esc(e.feature_key)}"><div class="row"><span class="name">${esc(name)}</span></div>${body}${badges ? `<div class="badges">${badges}</div>` : ""}</li>`;
      })
      .join("");
    return `<ul part="list">${items}</ul>${this.upgradeMarkup(session)}`;
  }
}
