/** `<tangible-milestones>`: milestones reached, and the next ones with their progress. */

import { TangibleElement } from "../base";
import { esc } from "../html";
import { type Milestone, splitMilestones } from "../model";
import type { Session } from "../session";

interface Data {
  milestones: Milestone[];
}

export class TangibleMilestones extends TangibleElement<Data> {
  protected readonly titleKey = "milestones.title";
  protected readonly emptyKey = "milestones.empty";

  protected load(session: Session): Promise<Data> {
    const account = encodeURIComponent(session.config.account);
    return session.get(`${session.config.rewardsUrl}/v1/accounts/${account}/progress`);
  }

  protected isEmpty(data: Data): boolean {
    return data.milestones.length === 0;
  }

  private reward(m: Milestone, session: Session): string {
    const { t, number } = session.i18n;
    const r = m.reward;
    switch (r.kind) {
      case "credits":
        return t("milestones.reward.credits", { credits: number(Number(r.credits ?? 0)) });
      case "support_level":
        return t("milestones.reward.support_level", { value: r.support_level ?? "" });
      case "early_access":
        return t("milestones.reward.early_access", { value: r.feature_key ?? "" });
      default:
        return t("milestones.reward.custom", { value: r.name ?? "" });
    }
  }

  private item(m: Milestone, session: Session): string {
    const { t, number, percent } = session.i18n;
    const pct = Math.max(0, Math.min(100, m.percent));
    const done = m.reached || m.status === "reached";
    // past the target the counter keeps counting; "3 of 1" would read as a glitch
    const progress = t("milestones.progress", { current: number(Math.min(m.current, m.target)), target: number(m.target) });
    return `<li part="item" data-milestone="${esc(m.rule_key)}"><div class="row"><span class="name">${esc(m.name)}</span><span part="percent">${esc(percent(pct))}</span></div>
<div class="bar" part="bar" role="progressbar" aria-valuemin="0" aria-valuemax="100" aria-valuenow="${Math.round(pct)}" aria-valuetext="${esc(progress)}" aria-label="${esc(m.name)}"><div class="fill${done ? " done" : ""}" part="bar-fill" style="width:${pct.toFixed(1)}%"></div></div>
<div class="row"><span part="progress">${esc(progress)}${done ? "" : ` · ${esc(t("milestones.remaining", { remaining: number(m.remaining) }))}`}</span><span class="muted">${esc(this.reward(m, session))}</span></div></li>`;
  }

  protected renderData(data: Data, session: Session): string {
    const { t } = session.i18n;
    const { reached, next } = splitMilestones(data.milestones);
    const section = (key: "milestones.next" | "milestones.reached", list: Milestone[]): string =>
      list.length ? `<h3 part="subtitle">${esc(t(key))}</h3><ul part="list">${list.map((m) => this.item(m, session)).join("")}</ul>` : "";
    return section("milestones.next", next) + section("milestones.reached", reached);
  }
}
