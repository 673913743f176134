/**
 * `<tangible-rewards expiring-days="30" entries="5">`: balance, what expires soon, recent
 * entries, and the reward catalogue — with a Redeem button when the token carries `redeem`
 * (read from its claims only to decide what to show: rewards enforces it), read-only otherwise.
 */

import { authorizedFetch } from "../api";
import { TangibleElement } from "../base";
import { esc } from "../html";
import {
  affordable,
  type Bucket,
  type CatalogItem,
  canRedeem,
  expiringSoon,
  idempotencyKey,
  type LedgerEntry,
  ledgerNote,
  signed,
  tokenClaims,
} from "../model";
import type { Session } from "../session";

interface Data {
  balance: { total: string; unit: string; buckets: Bucket[] };
  ledger: { entries: LedgerEntry[]; total: number };
  catalog: CatalogItem[];
  redeem: boolean;
}

export class TangibleRewards extends TangibleElement<Data> {
  protected readonly titleKey = "rewards.title";
  protected readonly emptyKey = "rewards.empty";
  /** Items whose purchase is in flight: their button is disabled until it answers. */
  private pending = new Set<string>();
  private message: { text: string; error: boolean } | undefined;

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
    const [balance, ledger, catalog, token] = await Promise.all([
      session.get<Data["balance"]>(`${base}/balance`),
      session.get<Data["ledger"]>(`${base}/ledger?limit=${this.entries}`),
      session
        .get<{ items: CatalogItem[] }>(`${session.config.rewardsUrl}/v1/catalog/items?limit=100`)
        .catch(() => ({ items: [] })),
      session.tokens.current().catch(() => ""),
    ]);
    return { balance, ledger, catalog: catalog.items, redeem: canRedeem(tokenClaims(token)) };
  }

  protected isEmpty(data: Data): boolean {
    return Number(data.balance.total) === 0 && data.ledger.entries.length === 0 && data.catalog.length === 0;
  }

  protected onAction(action: string, target: HTMLElement, event: Event): void {
    if (action === "redeem") {
      event.preventDefault();
      void this.redeem(target.dataset.item ?? "");
      return;
    }
    super.onAction(action, target, event);
  }

  /** POST …/catalog/items/{key}/redeem with an Idempotency-Key; then the balance refetches. */
  private async redeem(key: string): Promise<void> {
    const session = this.session;
    const item = this.data?.catalog.find((i) => i.key === key);
    if (!session || !item || this.pending.has(key)) return;
    const t = session.i18n.t;
    const idempotency = idempotencyKey();
    this.pending.add(key);
    this.message = undefined;
    this.render();
    const account = encodeURIComponent(session.config.account);
    const url = `${session.config.rewardsUrl}/v1/accounts/${account}/catalog/items/${encodeURIComponent(key)}/redeem`;
    try {
      const response = await authorizedFetch(session.tokens, url, {
        method: "POST",
        headers: { Accept: "application/json", "Idempotency-Key": idempotency },
      });
      if (response.ok) {
        this.message = { text: t("rewards.catalog.redeemed", { name: item.name }), error: false };
      } else {
        const problem = (await response.json().catch(() => ({}))) as { title?: string };
        const reason = problem.title ?? String(response.status);
        this.message = { text: t("rewards.catalog.refused", { name: item.name, reason }), error: true };
      }
    } catch {
      this.message = { text: t("rewards.catalog.refused", { name: item.name, reason: t("state.error") }), error: true };
    } finally {
      this.pending.delete(key);
    }
    this.announce(this.message.text);
    await this.refresh();
    this.render();
  }

  private catalogMarkup(data: Data, session: Session): string {
    if (data.catalog.length === 0) return "";
    const { t, number } = session.i18n;
    const items = data.catalog
      .map((item) => {
        const price = t("rewards.catalog.price", { amount: number(Number(item.price)) });
        const status =
          item.availability !== "available"
            ? t(`rewards.catalog.${item.availability}`)
            : item.stock !== null
              ? t("rewards.catalog.left", { n: item.stock })
              : "";
        let action = "";
        if (data.redeem) {
          const can = affordable(item, data.balance.total) && !this.pending.has(item.key);
          const label = t("rewards.catalog.redeemFor", { name: item.name, amount: number(Number(item.price)) });
          action = `<button type="button" class="primary" part="button redeem-button" data-action="redeem" data-item="${esc(item.key)}" data-key="redeem-${esc(item.key)}" aria-label="${esc(label)}"${can ? "" : " disabled"}>${esc(t("rewards.catalog.redeem"))}</button>`;
          if (item.availability === "available" && !affordable(item, data.balance.total)) {
            action += ` <span class="muted">${esc(t("rewards.catalog.tooExpensive"))}</span>`;
          }
        }
        return `<li part="item catalog-item" data-item="${esc(item.key)}"><div class="row"><span class="name">${esc(item.name)}</span><span part="price">${esc(price)}</span></div>${item.description ? `<p class="muted">${esc(item.description)}</p>` : ""}${status ? `<p class="muted">${esc(status)}</p>` : ""}${action ? `<p>${action}</p>` : ""}</li>`;
      })
      .join("");
    const note = data.redeem ? "" : `<p class="muted" part="catalog-note">${esc(t("rewards.catalog.readOnly"))}</p>`;
    const message = this.message
      ? `<p class="${this.message.error ? "negative" : "positive"}" part="catalog-message" role="${this.message.error ? "alert" : "status"}">${esc(this.message.text)}</p>`
      : "";
    return `<h3 part="subtitle">${esc(t("rewards.catalog"))}</h3>${message}<ul part="list catalog">${items}</ul>${note}`;
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
    return `<p class="muted">${esc(t("rewards.balance"))}</p><p class="big" part="value balance">${esc(t("rewards.balance.value", { amount: number(Number(data.balance.total)) }))}</p>${expiring}${entries ? `<h3 part="subtitle">${esc(t("rewards.recent"))}</h3><ul part="list">${entries}</ul>` : ""}${this.catalogMarkup(data, session)}`;
  }
}
