/**
 * A server-sent events parser (the HTML standard's "event stream interpretation"), fed text
 * chunks as they arrive from `fetch()`: lines may be split anywhere between chunks, including
 * between the CR and LF of a CRLF.
 */

export interface SseEvent {
  /** The event's `id`, or the last one seen on this stream (what `Last-Event-ID` resends). */
  id: string | undefined;
  /** `event:` field; "message" when absent. */
  event: string;
  /** `data:` lines joined by "\n". */
  data: string;
}

export class SseParser {
  /** The id to send as `Last-Event-ID` when reconnecting. */
  lastEventId: string | undefined;
  /** The server's `retry:` in milliseconds, when it sent one. */
  retry: number | undefined;

  private line = "";
  private afterCR = false;
  private started = false;
  private data: string[] = [];
  private eventType = "";

  constructor(lastEventId?: string) {
    this.lastEventId = lastEventId;
  }

  /** Feed decoded text; returns the events completed by it. */
  push(chunk: string): SseEvent[] {
    const events: SseEvent[] = [];
    let text = chunk;
    if (!this.started && text.length > 0) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 10 /* LF */ && this.afterCR) {
        this.afterCR = false;
        start = i + 1;
        continue;
      }
      this.afterCR = false;
      if (c === 10 || c === 13) {
        this.line += text.slice(start, i);
        start = i + 1;
        this.afterCR = c === 13;
        const event = this.takeLine(this.line);
        if (event) events.push(event);
        this.line = "";
      }
    }
    this.line += text.slice(start);
    return events;
  }

  private takeLine(line: string): SseEvent | undefined {
    if (line === "") return this.dispatch();
    if (line.startsWith(":")) return undefined;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    switch (field) {
      case "event":
        this.eventType = value;
        break;
      case "data":
        this.data.push(value);
        break;
      case "id":
        if (!value.includes("\0")) this.lastEventId = value;
        break;
      case "retry":
        if (/^\d+$/.test(value)) this.retry = Number(value);
        break;
      default:
        break; // unknown fields are ignored
    }
    return undefined;
  }

  private dispatch(): SseEvent | undefined {
    const data = this.data;
    const type = this.eventType;
    this.data = [];
    this.eventType = "";
    if (data.length === 0) return undefined;
    return { id: this.lastEventId, event: type || "message", data: data.join("\n") };
  }
}

/** Reconnection delay: exponential from `base`, capped, with jitter in [50 %, 100 %]. */
export function backoffDelay(attempt: number, base = 1000, cap = 30000, random: () => number = Math.random): number {
  const ceiling = Math.min(cap, base * 2 ** Math.min(attempt, 20));
  return Math.round(ceiling * (0.5 + random() / 2));
}
