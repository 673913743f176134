/** `<tangible-rewards expiring-days="30" entries="5">`: balance, what expires soon, recent entries. */

import { TangibleElement } from "../base";
import { esc } from "../html";
import { type Bucket, expiringSoon, type LedgerEntry, ledgerNote, signed } from "../model";
import type { Session } from "../session";

interface Data {
  balance: { total: string; unit: string; buckets: Bucket[] };
  ledger: { entries: LedgerEntry[]; total: number };
}

export class TangibleRewards extends TangibleElement<Data> {
  protected readonly titleKey = "rewards.title";
  protected readonly emptyKey = "rewards.empty";

  private get expiringDays(): number {
    const days = Number(this.getAttribute("expiring-days") ?? 30);
    return Number.isFinite(days) && days > 0 ? days : 30;
  }

  private get entries(): number {
    const entries = Number(this.getAttribute("entries") ?? 5);
    return Number.isInteger(entries) && entries > 0 && entries <= 100 ? entries : 5;
  }

  protected async load(session: Session): Promise<Data> {
    const account = encodeURIComponent(session.config.account);
    const base = `${session.config.rewardsUrl}/v1/accounts/${account}`;
    const [balance, ledger] = await Promise.all([
      session.get<Data["balance"]>(`${base}/balance`),
      session.get<Data["ledger"]>(`${base}/ledger?limit=${this.entries}`),
    ]);
    return { balance, ledger };
  }

  protected isEmpty(data: Data): boolean {
    return Number(data.balance.total) === 0 && data.ledger.entries.length === 0;
  }

  protected announcement(before: Data, after: Data, session: Session): string | undefined {
    if (before.balance.total === after.balance.total) return undefined;
    const { t, number } = session.i18n;
    return `${t("rewards.balance")}: ${t("rewards.balance.value", { amount: number(Number(after.balance.total)) })}`;
  }

  protected renderData(data: Data, session: Session): string {
    const { t, number, date } = session.i18n;
    const soon = expiringSoon(data.balance.buckets, new Date(), this.expiringDays);
    const expiring = soon
      ? `<p class="muted" part="expiring">${esc(t("rewards.expiring", { amount: number(soon.amount), date: date(soon.date) }))}</p>`
      : `<p class="muted" part="expiring">${esc(t("rewards.expiring.none", { days: number(this.expiringDays, 0) }))}</p>`;
    const entries = data.ledger.entries
      .map((e) => {
        const amount = Number(e.amount);
        const note = ledgerNote(e);
        return `<li part="item"><div class="row"><span><span class="name">${esc(t(`rewards.kind.${e.kind}`))}</span>${note ? ` <span class="muted">· ${esc(note)}</span>` : ""}</span><span class="${amount >= 0 ? "positive" : "negative"}" part="amount">${esc(signed(amount, (n) => number(n)))}</span></div><p class="muted">${esc(date(e.created_at))}</p></li>`;
      })
      .join("");
    return `<p class="muted">${esc(t("rewards.balance"))}</p><p class="big" part="value balance">${esc(t("rewards.balance.value", { amount: number(Number(data.balance.total)) }))}</p>${expiring}${entries ? `<h3 part="subtitle">${esc(t("rewards.recent"))}</h3><ul part="list">${entries}</ul>` : ""}`;
  }
}
