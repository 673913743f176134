/**
 * `<tangible-inbox>`: a bell with the unread count that opens a panel (Escape or a click
 * outside closes it, focus returns to the bell): the items, mark as read, and the reader's
 * preferences (the user's when `user` is configured, else the account's).
 */

import { TangibleElement } from "../base";
import { esc, uid } from "../html";
import type { Session } from "../session";

interface Item {
  id: string;
  title: string;
  body: string;
  category: string;
  priority: string;
  read: boolean;
  created_at: string;
}

type Mode = "immediate" | "off" | "daily" | "weekly";

interface Preferences {
  email: string | null;
  timezone: string;
  quiet_hours: { start: string; end: string } | null;
  channels: Partial<Record<"email" | "inbox", Record<string, Mode>>>;
}

interface Data {
  items: Item[];
  unread: number;
  preferences: Preferences | null;
}

const MODES: Mode[] = ["immediate", "daily", "weekly", "off"];
const CHANNELS = ["inbox", "email"] as const;

const BELL =
  '<svg aria-hidden="true" width="20" height="20" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"><path d="M18 8a6 6 0 0 0-12 0c0 7-3 9-3 9h18s-3-2-3-9"/><path d="M13.7 21a2 2 0 0 1-3.4 0"/></svg>';

const INBOX_CSS = `
:host{display:inline-block;position:relative}
.bell{position:relative;display:inline-flex;align-items:center;gap:6px;border-radius:999px;padding:6px 10px}
.count{min-width:1.5em;padding:0 6px;border-radius:999px;background:var(--_color-danger);color:var(--_color-background);font-size:.8em;font-weight:700;text-align:center}
.panel{position:absolute;right:0;top:calc(100% + 6px);z-index:1000;width:var(--_panel-width);max-width:calc(100vw - 16px);max-height:70vh;overflow:auto;box-shadow:var(--_shadow)}
:host([panel=static]) .panel{position:static;margin-top:6px}
.panel[hidden]{display:none}
.head{display:flex;justify-content:space-between;align-items:center;gap:8px}
.head h2{margin:0}
.unread .name::before{content:"";display:inline-block;width:8px;height:8px;border-radius:50%;background:var(--_color-accent);margin-right:6px;vertical-align:middle}
details{margin-top:var(--_spacing);border-top:1px solid var(--_color-border);padding-top:calc(var(--_spacing) * .5)}
summary{cursor:pointer;font-weight:600}
label{display:flex;justify-content:space-between;align-items:center;gap:8px;margin:6px 0}
.actions{display:flex;justify-content:flex-end;margin-top:8px}
`;

export class TangibleInbox extends TangibleElement<Data> {
  protected readonly titleKey = "inbox.title";
  protected readonly emptyKey = "inbox.empty";
  private open = false;
  private prefsOpen = false;
  private draft: Partial<Record<"email" | "inbox", Mode>> = {};
  private readonly panelId = uid("tangible-inbox-panel");
  private readonly outside = (event: Event): void => {
    if (this.open && !event.composedPath().includes(this)) this.close(false);
  };

  constructor() {
    super();
    const style = document.createElement("style");
    style.textContent = INBOX_CSS;
    this.root.insertBefore(style, this.content);
    this.root.addEventListener("keydown", (event) => {
      if ((event as KeyboardEvent).key === "Escape" && this.open) {
        event.stopPropagation();
        this.close(true);
      }
    });
    this.root.addEventListener("change", (event) => {
      const select = event.target as HTMLSelectElement;
      const channel = select.dataset.channel as "email" | "inbox" | undefined;
      if (channel) this.draft[channel] = select.value as Mode;
    });
    this.root.addEventListener("toggle", (event) => {
      if ((event.target as Element).tagName === "DETAILS") this.prefsOpen = (event.target as HTMLDetailsElement).open;
    }, true);
  }

  connectedCallback(): void {
    super.connectedCallback();
    document.addEventListener("click", this.outside, true);
  }

  disconnectedCallback(): void {
    super.disconnectedCallback();
    document.removeEventListener("click", this.outside, true);
  }

  private get base(): string {
    const session = this.session;
    return session ? `${session.config.notificationsUrl}/v1/accounts/${encodeURIComponent(session.config.account)}` : "";
  }

  private get preferencesUrl(): string {
    const user = this.session?.config.user;
    return user ? `${this.base}/users/${encodeURIComponent(user)}/preferences` : `${this.base}/preferences`;
  }

  protected async load(session: Session): Promise<Data> {
    const query = new URLSearchParams({ limit: this.getAttribute("limit") ?? "20" });
    if (session.config.user) query.set("user_id", session.config.user);
    const [page, preferences] = await Promise.all([
      session.get<{ items: Item[]; unread_count: number }>(`${this.base}/inbox?${query}`),
      session.get<Preferences>(this.preferencesUrl).catch(() => null),
    ]);
    return { items: page.items, unread: page.unread_count, preferences };
  }

  protected isEmpty(data: Data): boolean {
    return data.items.length === 0 && data.preferences === null;
  }

  protected announcement(before: Data, after: Data, session: Session): string | undefined {
    const fresh = after.items.filter((i) => !before.items.some((b) => b.id === i.id)).length;
    return fresh > 0 ? session.i18n.t("inbox.new", { n: fresh }) : undefined;
  }

  private close(returnFocus: boolean): void {
    this.open = false;
    this.render();
    if (returnFocus) this.root.querySelector<HTMLElement>('[data-key="bell"]')?.focus();
  }

  protected async onAction(action: string, target: HTMLElement, event: Event): Promise<void> {
    const session = this.session;
    if (action === "toggle") {
      this.open = !this.open;
      this.render();
      if (this.open) this.root.querySelector<HTMLElement>(`#${this.titleId}`)?.focus();
      return;
    }
    if (action === "close") return this.close(true);
    if (!session || !this.data) return super.onAction(action, target, event);
    if (action === "mark") {
      const id = target.dataset.id ?? "";
      const read = target.dataset.read === "true";
      await this.mark(session, [id], read);
    } else if (action === "mark-all") {
      await this.mark(session, this.data.items.filter((i) => !i.read).map((i) => i.id), true);
    } else if (action === "save") {
      event.preventDefault();
      await this.savePreferences(session);
    } else {
      super.onAction(action, target, event);
    }
  }

  private async mark(session: Session, ids: string[], read: boolean): Promise<void> {
    if (!this.data) return;
    // optimistic: the change shows at once, the refetch confirms it
    const items = this.data.items.map((i) => (ids.includes(i.id) ? { ...i, read } : i));
    const delta = this.data.items.filter((i) => ids.includes(i.id) && i.read !== read).length;
    this.data = { ...this.data, items, unread: Math.max(0, this.data.unread + (read ? -delta : delta)) };
    this.render();
    await Promise.all(
      ids.map((id) => session.send(`PUT`, `${this.base}/inbox/${encodeURIComponent(id)}/read`, { read }).catch(() => undefined)),
    );
    await this.refresh();
  }

  private async savePreferences(session: Session): Promise<void> {
    const current = this.data?.preferences;
    if (!current) return;
    const channels = { ...current.channels };
    for (const channel of CHANNELS) {
      const mode = this.draft[channel];
      if (mode) channels[channel] = { ...(channels[channel] ?? {}), "*": mode };
    }
    try {
      const saved = await session.send<Preferences>("PUT", this.preferencesUrl, { ...current, channels });
      this.draft = {};
      if (this.data) this.data = { ...this.data, preferences: saved };
      this.render();
      this.announce(session.i18n.t("inbox.preferences.saved"));
    } catch {
      this.announce(session.i18n.t("state.error"));
    }
  }

  private preferencesMarkup(p: Preferences, session: Session): string {
    const { t } = session.i18n;
    const rows = CHANNELS.map((channel) => {
      const value = this.draft[channel] ?? p.channels[channel]?.["*"] ?? "immediate";
      const id = `${this.panelId}-${channel}`;
      const options = MODES.map(
        (m) => `<option value="${m}"${m === value ? " selected" : ""}>${esc(t(`inbox.preferences.mode.${m}`))}</option>`,
      ).join("");
      return `<label for="${id}"><span>${esc(t(`inbox.preferences.channel.${channel}`))}</span><select id="${id}" data-channel="${channel}" data-key="pref-${channel}" part="select">${options}</select></label>`;
    }).join("");
    const quiet = p.quiet_hours ? `<p class="muted">${esc(t("inbox.preferences.quiet", { start: p.quiet_hours.start, end: p.quiet_hours.end }))}</p>` : "";
    return `<details part="preferences"${this.prefsOpen ? " open" : ""}><summary data-key="prefs">${esc(t("inbox.preferences"))}</summary>${rows}<p class="muted">${esc(t("inbox.preferences.timezone", { zone: p.timezone }))}</p>${quiet}<div class="actions"><button type="button" class="primary" data-action="save" data-key="save" part="button">${esc(t("inbox.preferences.save"))}</button></div></details>`;
  }

  protected renderData(data: Data, session: Session): string {
    const { t, dateTime } = session.i18n;
    const items = data.items
      .map((i) => {
        const key = i.read ? "inbox.markUnread" : "inbox.markRead";
        return `<li part="item${i.read ? "" : " item-unread"}" class="${i.read ? "" : "unread"}" data-item="${esc(i.id)}"><div class="row"><span class="name">${i.read ? "" : `<span class="sr-only">${esc(t("inbox.unread"))}: </span>`}${esc(i.title)}</span></div><p>${esc(i.body)}</p><div class="row"><span class="muted">${esc(dateTime(i.created_at))}</span><button type="button" data-action="mark" data-id="${esc(i.id)}" data-read="${!i.read}" data-key="mark-${esc(i.id)}" part="button">${esc(t(key))}</button></div></li>`;
      })
      .join("");
    const list = items
      ? `<ul part="list">${items}</ul>${data.unread > 0 ? `<div class="actions"><button type="button" data-action="mark-all" data-key="mark-all" part="button">${esc(t("inbox.markAllRead"))}</button></div>` : ""}`
      : `<p class="state" part="state state-empty">${esc(t("inbox.empty"))}</p>`;
    return list + (data.preferences ? this.preferencesMarkup(data.preferences, session) : "");
  }

  protected shell(session: Session | undefined, inner: string): string {
    const t = session ? session.i18n.t : (key: string) => key;
    const unread = this.data?.unread ?? 0;
    const label = unread > 0 ? t("inbox.button.unread", { n: unread }) : t("inbox.button");
    const problem = this.view === "expired" || this.view === "forbidden" || this.view === "error";
    const count = problem
      ? `<span class="count" part="count" aria-hidden="true">!</span>`
      : unread > 0 ? `<span class="count" part="count" aria-hidden="true">${esc(session ? session.i18n.number(unread, 0) : unread)}</span>` : "";
    return `<button type="button" class="bell" part="bell button" data-action="toggle" data-key="bell" aria-haspopup="dialog" aria-expanded="${this.open}" aria-controls="${this.panelId}" aria-label="${esc(label)}">${BELL}${count}</button>
<section class="card panel" part="card panel" id="${this.panelId}" role="dialog" aria-labelledby="${this.titleId}"${this.open ? "" : " hidden"}><div class="head"><h2 part="title" id="${this.titleId}" tabindex="-1">${esc(t("inbox.title"))}</h2><button type="button" data-action="close" data-key="close" part="button close" aria-label="${esc(t("inbox.close"))}">×</button></div>${inner}</section>`;
  }
}
