/** `<tangible-value period="quarter">`: the account's outcomes from the benefit mapping. */

import { TangibleElement } from "../base";
import { esc } from "../html";
import { defaultGranularity, type Period, periodRange, sparklinePoints } from "../model";
import type { Session } from "../session";

interface UsageReport {
  from: string;
  to: string;
  features: Array<{
    feature_key: string;
    name: string;
    outcome: string;
    total: number;
    series: Array<{ period_start: string; value: number }>;
    impact: { metric: string; per_unit: number; value: number } | null;
    cohort: { plan_key: string; percentile: number } | null;
  }>;
  impact: Array<{ metric: string; value: number }>;
}

export class TangibleValue extends TangibleElement<UsageReport> {
  protected readonly titleKey = "value.title";
  protected readonly emptyKey = "value.empty";

  static get observedAttributes(): string[] {
    return ["theme", "period"];
  }

  get period(): Period {
    const value = this.getAttribute("period");
    return value === "month" || value === "year" ? value : "quarter";
  }

  attributeChangedCallback(name?: string): void {
    if (name === "period" && this.session) void this.refresh();
    else super.attributeChangedCallback();
  }

  protected load(session: Session): Promise<UsageReport> {
    const { from, to } = periodRange(this.period, new Date());
    const query = new URLSearchParams({ from, to, granularity: defaultGranularity(this.period) });
    const account = encodeURIComponent(session.config.account);
    return session.get(`${session.config.entitlementsUrl}/v1/accounts/${account}/usage?${query}`);
  }

  protected isEmpty(report: UsageReport): boolean {
    return report.features.length === 0 && report.impact.length === 0;
  }

  protected renderData(report: UsageReport, session: Session): string {
    const { t, number, percent, date } = session.i18n;
    const period = t(`value.period.${this.period}`);
    const headline = report.impact
      .map(
        (i) =>
          `<p class="big" part="value headline">${esc(t("value.headline", { value: number(i.value, 1), metric: i.metric, period }))}</p>`,
      )
      .join("");
    const features = report.features
      .map((f) => {
        const values = f.series.map((p) => p.value);
        const label = t("value.sparkline", { feature: f.name, from: date(`${report.from}T00:00:00`), to: date(`${report.to}T00:00:00`) });
        const spark = values.length
          ? `<svg class="spark" part="sparkline" viewBox="0 0 120 32" preserveAspectRatio="none" role="img" aria-label="${esc(label)}"><polyline points="${sparklinePoints(values, 120, 32)}"/></svg>`
          : "";
        const impact = f.impact
          ? `<p class="positive" part="impact">${esc(t("value.feature.impact", { value: number(f.impact.value, 1), metric: f.impact.metric }))}</p>`
          : "";
        const cohort = f.cohort
          ? `<p class="muted" part="cohort">${esc(t("value.cohort", { percentile: percent(f.cohort.percentile) }))}</p>`
          : "";
        return `<li part="item" data-feature="${esc(f.feature_key)}"><div class="row"><span class="name">${esc(f.name)}</span><span part="total">${esc(t("value.feature.total", { total: number(f.total) }))}</span></div><p class="muted">${esc(f.outcome)}</p>${impact}${cohort}${spark}</li>`;
      })
      .join("");
    return `${headline}<ul part="list">${features}</ul>`;
  }
}
