import assert from "node:assert/strict";
import { test } from "node:test";

import { ApiError, requestJson, TokenSource } from "../src/api";
import { type LiveEvent, LiveHub } from "../src/live";

type Call = { url: string; headers: Headers };

function fakeFetch(responses: Array<() => Response>, calls: Call[]) {
  return async (url: string, init?: RequestInit): Promise<Response> => {
    calls.push({ url, headers: new Headers(init?.headers) });
    const next = responses.shift();
    if (!next) return new Promise(() => undefined); // hangs like an idle stream
    return next();
  };
}

const json = (status: number, body: unknown = {}) => () =>
  new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });

const stream = (text: string) => () =>
  new Response(new Blob([text]).stream(), { status: 200, headers: { "Content-Type": "text/event-stream" } });

/** Timers run when `tick()` is called, in order. */
function manualTimers() {
  const due: Array<{ callback: () => void; ms: number }> = [];
  return {
    due,
    setTimer: (callback: () => void, ms: number) => {
      due.push({ callback, ms });
      return due.length;
    },
    clearTimer: () => undefined,
    tick() {
      const next = due.shift();
      next?.callback();
      return next?.ms;
    },
  };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 10));

test("a 401 refreshes the token once and retries; a second 401 is 'expired'", async () => {
  let issued = 0;
  const tokens = new TokenSource(async () => `t${++issued}`);
  const calls: Call[] = [];
  const ok = await requestJson(tokens, "http://x/a", {}, fakeFetch([json(401), json(200, { fine: true })], calls));
  assert.deepEqual(ok, { fine: true });
  assert.deepEqual(calls.map((c) => c.headers.get("Authorization")), ["Bearer t1", "Bearer t2"]);

  await assert.rejects(
    requestJson(tokens, "http://x/a", {}, fakeFetch([json(401), json(401)], [])),
    (e: unknown) => e instanceof ApiError && e.kind === "expired",
  );
  assert.equal(issued, 3);
});

test("a static token is not refreshed: the first 401 is 'expired'; 403 is 'forbidden'", async () => {
  const tokens = new TokenSource("static");
  const calls: Call[] = [];
  await assert.rejects(requestJson(tokens, "http://x", {}, fakeFetch([json(401)], calls)), (e: unknown) => (e as ApiError).kind === "expired");
  assert.equal(calls.length, 1);
  await assert.rejects(requestJson(tokens, "http://x", {}, fakeFetch([json(403)], [])), (e: unknown) => (e as ApiError).kind === "forbidden");
});

test("requests failing together with the same stale token refresh it once", async () => {
  let issued = 0;
  const tokens = new TokenSource(async () => `t${++issued}`);
  await tokens.current();
  const [a, b] = await Promise.all([tokens.refresh("t1"), tokens.refresh("t1")]);
  assert.equal(a, "t2");
  assert.equal(b, "t2");
  assert.equal(issued, 2);
});

test("the stream sends the token in a header, dispatches CloudEvents, reconnects with Last-Event-ID", async () => {
  const calls: Call[] = [];
  const timers = manualTimers();
  const cloudEvent = { specversion: "1.0", type: "tangible.rewards.v1.reward_granted", id: "e1" };
  const hub = new LiveHub({
    url: "http://n/v1/accounts/a/stream",
    tokens: new TokenSource("tok"),
    pollInterval: 30000,
    fetcher: fakeFetch([stream(`id: 41\nevent: ${cloudEvent.type}\ndata: ${JSON.stringify(cloudEvent)}\n\n`)], calls),
    setTimer: timers.setTimer,
    clearTimer: timers.clearTimer,
  });
  const seen: LiveEvent[] = [];
  hub.subscribe((e) => seen.push(e));
  await settle();
  assert.deepEqual(seen, [{ type: "tangible.connected" }, { type: cloudEvent.type, data: cloudEvent }]);
  assert.equal(calls[0]?.headers.get("Authorization"), "Bearer tok");
  assert.equal(calls[0]?.headers.get("Accept"), "text/event-stream");
  assert.equal(calls[0]?.url.includes("tok"), false);
  assert.equal(hub.mode, "connecting"); // the stream ended: a reconnect is scheduled
  assert.ok((timers.due[0]?.ms ?? 0) <= 1000);
  timers.tick();
  await settle();
  assert.equal(calls[1]?.headers.get("Last-Event-ID"), "41");
  hub.stop();
});

test("a 404 stream (not deployed yet) falls back to polling at the configured interval", async () => {
  const timers = manualTimers();
  const hub = new LiveHub({
    url: "http://n/stream",
    tokens: new TokenSource("tok"),
    pollInterval: 30000,
    fetcher: fakeFetch([json(404)], []),
    setTimer: timers.setTimer,
    clearTimer: timers.clearTimer,
  });
  const seen: string[] = [];
  hub.subscribe((e) => seen.push(e.type));
  await settle();
  assert.equal(hub.mode, "polling");
  assert.equal(timers.tick(), 30000);
  assert.equal(timers.tick(), 30000);
  assert.deepEqual(seen, ["tangible.poll", "tangible.poll"]);
  hub.stop();
  assert.equal(hub.mode, "stopped");
});

test("server errors back off and retry; the last subscriber leaving stops the hub", async () => {
  const timers = manualTimers();
  const calls: Call[] = [];
  const hub = new LiveHub({
    url: "http://n/stream",
    tokens: new TokenSource("tok"),
    pollInterval: 30000,
    fetcher: fakeFetch([json(503), json(503)], calls),
    setTimer: timers.setTimer,
    clearTimer: timers.clearTimer,
  });
  const unsubscribe = hub.subscribe(() => undefined);
  await settle();
  const first = timers.tick() ?? 0;
  await settle();
  const second = timers.due[0]?.ms ?? 0;
  assert.ok(first <= 1000 && second <= 2000 && second >= 1000, `${first} ${second}`);
  assert.equal(calls.length, 2);
  unsubscribe();
  assert.equal(hub.mode, "stopped");
});

test("an expired token on the stream stops it and tells the components", async () => {
  const hub = new LiveHub({
    url: "http://n/stream",
    tokens: new TokenSource("tok"),
    pollInterval: 30000,
    fetcher: fakeFetch([json(401)], []),
  });
  const seen: string[] = [];
  hub.subscribe((e) => seen.push(e.type));
  await settle();
  assert.deepEqual(seen, ["tangible.expired"]);
  assert.equal(hub.mode, "stopped");
});

test("a token of another account (403) stops the stream instead of retrying", async () => {
  const calls: Call[] = [];
  const timers = manualTimers();
  const hub = new LiveHub({
    url: "http://n/stream",
    tokens: new TokenSource("tok"),
    pollInterval: 30000,
    fetcher: fakeFetch([json(403)], calls),
    setTimer: timers.setTimer,
    clearTimer: timers.clearTimer,
  });
  hub.subscribe(() => undefined);
  await settle();
  assert.equal(hub.mode, "stopped");
  assert.equal(timers.due.length, 0);
  assert.equal(calls.length, 1);
});
