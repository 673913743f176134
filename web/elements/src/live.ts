/**
 * One live connection per page, shared by every component: a `fetch()` of the account's
 * server-sent events stream (so the bearer token travels in a header, not the URL), with
 * `Last-Event-ID` and backoff on reconnect; polling when the stream is not deployed (404).
 */

import { ApiError, authorizedFetch, type TokenSource } from "./api";
import { backoffDelay, SseParser } from "./sse";

export interface LiveEvent {
  /** The CloudEvents type (`tangible.rewards.v1.reward_granted`), or `tangible.poll`. */
  type: string;
  /** The CloudEvent, parsed; undefined for polls. */
  data?: unknown;
}

export type LiveListener = (event: LiveEvent) => void;

type Fetch = (input: string, init?: RequestInit) => Promise<Response>;
type Timer = (callback: () => void, ms: number) => unknown;

export interface LiveOptions {
  url: string;
  tokens: TokenSource;
  pollInterval: number;
  fetcher?: Fetch;
  setTimer?: Timer;
  clearTimer?: (handle: unknown) => void;
}

/** Statuses that mean "no stream here (yet)": poll instead. */
const NOT_DEPLOYED = new Set([404, 405, 501]);

export class LiveHub {
  /** `connecting`, `streaming`, `polling`, `stopped` (for tests and the demo). */
  mode: "idle" | "connecting" | "streaming" | "polling" | "stopped" = "idle";
  private readonly listeners = new Set<LiveListener>();
  private abort: AbortController | undefined;
  private timer: unknown;
  private attempt = 0;
  private lastEventId: string | undefined;
  private retryBase = 1000;

  constructor(private readonly options: LiveOptions) {}

  subscribe(listener: LiveListener): () => void {
    this.listeners.add(listener);
    if (this.mode === "idle") this.connect();
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stop();
    };
  }

  stop(): void {
    this.mode = "stopped";
    this.abort?.abort();
    if (this.timer !== undefined) (this.options.clearTimer ?? clearTimeout)(this.timer as never);
    this.timer = undefined;
  }

  private emit(event: LiveEvent): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch {
        // one component's failure must not stop the others' updates
      }
    }
  }

  private later(ms: number, callback: () => void): void {
    const set = this.options.setTimer ?? ((cb: () => void, delay: number) => setTimeout(cb, delay));
    this.timer = set(() => {
      this.timer = undefined;
      if (this.mode !== "stopped") callback();
    }, ms);
  }

  private poll(): void {
    this.mode = "polling";
    this.later(this.options.pollInterval, () => {
      this.emit({ type: "tangible.poll" });
      this.poll();
    });
  }

  private reconnect(): void {
    if (this.mode === "stopped") return;
    this.mode = "connecting";
    this.later(backoffDelay(this.attempt++, this.retryBase), () => this.connect());
  }

  private async connect(): Promise<void> {
    if (this.mode === "stopped") return;
    this.mode = "connecting";
    const abort = new AbortController();
    this.abort = abort;
    const headers: Record<string, string> = { Accept: "text/event-stream", "Cache-Control": "no-cache" };
    if (this.lastEventId !== undefined) headers["Last-Event-ID"] = this.lastEventId;
    let response: Response;
    try {
      response = await authorizedFetch(
        this.options.tokens,
        this.options.url,
        { headers, signal: abort.signal, cache: "no-store" },
        this.options.fetcher,
      );
    } catch (error) {
      if (error instanceof ApiError && error.kind === "expired") {
        // the components' own requests show the expired state; nothing to stream for
        this.mode = "stopped";
        this.emit({ type: "tangible.expired" });
        return;
      }
      this.reconnect();
      return;
    }
    if (response.status === 403) {
      // a token of another account: retrying cannot help, the components show "no access"
      this.mode = "stopped";
      return;
    }
    if (NOT_DEPLOYED.has(response.status)) {
      this.poll();
      return;
    }
    const type = response.headers.get("Content-Type") ?? "";
    if (!response.ok || !response.body || !type.includes("text/event-stream")) {
      this.reconnect();
      return;
    }
    this.mode = "streaming";
    this.attempt = 0;
    // after a reconnect, what happened while disconnected may not be replayed: refetch
    this.emit({ type: "tangible.connected" });
    const parser = new SseParser(this.lastEventId);
    const decoder = new TextDecoder();
    const reader = response.body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        for (const event of parser.push(decoder.decode(value, { stream: true }))) {
          this.lastEventId = event.id;
          let data: unknown;
          try {
            data = JSON.parse(event.data);
          } catch {
            data = event.data;
          }
          this.emit({ type: event.event, data });
        }
        if (parser.retry !== undefined) this.retryBase = parser.retry;
      }
    } catch {
      // a dropped connection: reconnect below
    }
    this.lastEventId = parser.lastEventId;
    this.reconnect();
  }
}
