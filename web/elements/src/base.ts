/**
 * What every component shares: a shadow root with the styles, the states (never blank:
 * loading, empty, error, expired, forbidden), a refetch on every live event, an aria-live
 * region that announces changes, and keyboard focus kept across re-renders.
 */

import { ApiError } from "./api";
import { getConfig, onConfig } from "./config";
import { esc, uid } from "./html";
import type { StringKey } from "./i18n";
import type { LiveEvent } from "./live";
import { currentSession, type Session } from "./session";
import { CSS } from "./styles";

export type ViewState = "unconfigured" | "loading" | "ready" | "empty" | "error" | "expired" | "forbidden";

const REFETCH_DEBOUNCE_MS = 250;

export abstract class TangibleElement<T> extends HTMLElement {
  static get observedAttributes(): string[] {
    return ["theme"];
  }

  protected readonly root: ShadowRoot;
  protected readonly content: HTMLElement;
  private readonly live: HTMLElement;
  protected readonly titleId = uid("tangible-title");
  protected data: T | undefined;
  protected session: Session | undefined;
  protected view: ViewState = "unconfigured";
  private cleanup: Array<() => void> = [];
  private loading: Promise<void> | undefined;
  private again = false;
  private debounce: ReturnType<typeof setTimeout> | undefined;

  /** The card's heading. */
  protected abstract readonly titleKey: StringKey;
  /** The text of the empty state. */
  protected abstract readonly emptyKey: StringKey;
  /** Fetch what the component shows. */
  protected abstract load(session: Session): Promise<T>;
  /** Markup for the data (every service value escaped). */
  protected abstract renderData(data: T, session: Session): string;
  protected isEmpty(_data: T): boolean {
    return false;
  }
  /** What to announce when fresh data differs from what was shown (undefined: nothing). */
  protected announcement(_before: T, _after: T, session: Session): string | undefined {
    return session.i18n.t("state.updated");
  }

  constructor() {
    super();
    this.root = this.attachShadow({ mode: "open" });
    const style = document.createElement("style");
    style.textContent = CSS;
    this.content = document.createElement("div");
    this.live = document.createElement("div");
    this.live.className = "sr-only";
    this.live.setAttribute("aria-live", "polite");
    this.live.setAttribute("part", "live");
    this.root.append(style, this.content, this.live);
    this.root.addEventListener("click", (event) => {
      const target = (event.target as Element | null)?.closest?.("[data-action]");
      if (target) this.onAction(target.getAttribute("data-action") ?? "", target as HTMLElement, event);
    });
  }

  connectedCallback(): void {
    this.cleanup.push(onConfig(() => this.restart()));
    this.restart();
  }

  disconnectedCallback(): void {
    for (const undo of this.cleanup.splice(0)) undo();
    this.unsubscribeLive?.();
    this.unsubscribeLive = undefined;
    clearTimeout(this.debounce);
  }

  attributeChangedCallback(): void {
    if (this.session) this.render();
  }

  private unsubscribeLive: (() => void) | undefined;

  private restart(): void {
    this.unsubscribeLive?.();
    this.unsubscribeLive = undefined;
    this.session = currentSession();
    this.data = undefined;
    const theme = getConfig()?.theme;
    if (theme === "light" || theme === "dark") this.dataset.theme = theme;
    else delete this.dataset.theme;
    if (!this.session) {
      this.setView("unconfigured");
      return;
    }
    this.setView("loading");
    this.unsubscribeLive = this.session.live.subscribe((event) => this.onLive(event));
    void this.refresh();
  }

  protected onLive(_event: LiveEvent): void {
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => void this.refresh(), REFETCH_DEBOUNCE_MS);
  }

  /** Fetch again; calls made while a fetch runs coalesce into one more. */
  async refresh(): Promise<void> {
    if (this.loading) {
      this.again = true;
      return this.loading;
    }
    const session = this.session;
    if (!session) return;
    this.loading = (async () => {
      try {
        const data = await this.load(session);
        if (session !== this.session) return;
        const before = this.data;
        this.data = data;
        const changed = before !== undefined && JSON.stringify(before) !== JSON.stringify(data);
        this.setView(this.isEmpty(data) ? "empty" : "ready");
        if (changed) this.announce(this.announcement(before as T, data, session));
      } catch (error) {
        if (session !== this.session) return;
        const kind = error instanceof ApiError ? error.kind : "http";
        if (kind === "expired") this.setView("expired");
        else if (kind === "forbidden") this.setView("forbidden");
        else if (this.data === undefined) this.setView("error");
        // a failed refetch keeps what was shown: stale beats blank
      }
    })();
    try {
      await this.loading;
    } finally {
      this.loading = undefined;
    }
    if (this.again) {
      this.again = false;
      await this.refresh();
    }
  }

  protected announce(message: string | undefined): void {
    if (!message) return;
    // a change of text is what screen readers announce: clear first, then set
    this.live.textContent = "";
    setTimeout(() => {
      this.live.textContent = message;
    }, 50);
  }

  protected setView(view: ViewState): void {
    this.view = view;
    this.setAttribute("state", view);
    this.render();
  }

  protected onAction(action: string, _target: HTMLElement, _event: Event): void {
    if (action === "retry") {
      this.setView("loading");
      void this.refresh();
    }
  }

  /** The state's markup, or undefined when there is data to show. */
  protected stateMarkup(): string | undefined {
    const t = (key: StringKey): string => (this.session ? this.session.i18n.t(key) : key);
    switch (this.view) {
      case "unconfigured":
        return `<p class="state" role="status" part="state">${esc(this.session?.i18n.t("state.unconfigured") ?? "Waiting for configuration.")}</p>`;
      case "loading":
        return `<div class="state" role="status" part="state" aria-busy="true"><span class="sr-only">${esc(t("state.loading"))}</span><div class="skeleton" aria-hidden="true"></div><div class="skeleton" aria-hidden="true" style="width:45%"></div></div>`;
      case "empty":
        return `<p class="state" part="state state-empty">${esc(t(this.emptyKey))}</p>`;
      case "error":
        return `<div class="state problem" role="alert" part="state state-error"><p>${esc(t("state.error"))}</p><p><button type="button" data-action="retry" part="button">${esc(t("state.retry"))}</button></p></div>`;
      case "expired":
        return `<p class="state problem" role="alert" part="state state-expired">${esc(t("state.expired"))}</p>`;
      case "forbidden":
        return `<p class="state problem" role="alert" part="state state-forbidden">${esc(t("state.forbidden"))}</p>`;
      default:
        return undefined;
    }
  }

  /** The whole component: a titled card around the state or the data. */
  protected shell(session: Session | undefined, inner: string): string {
    const title = session ? session.i18n.t(this.titleKey) : "";
    return `<section class="card" part="card" aria-labelledby="${this.titleId}"><h2 part="title" id="${this.titleId}">${esc(title)}</h2>${inner}</section>`;
  }

  protected render(): void {
    const focused = (this.root.activeElement as HTMLElement | null)?.dataset?.key;
    const session = this.session;
    const state = this.stateMarkup();
    const inner = state ?? (session && this.data !== undefined ? this.renderData(this.data, session) : "");
    this.content.innerHTML = this.shell(session, inner);
    if (focused) this.root.querySelector<HTMLElement>(`[data-key="${CSS_escape(focused)}"]`)?.focus();
  }
}

function CSS_escape(value: string): string {
  return value.replace(/["\\]/g, "\\$&");
}
