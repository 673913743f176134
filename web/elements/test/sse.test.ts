import assert from "node:assert/strict";
import { test } from "node:test";

import { backoffDelay, SseParser } from "../src/sse";

test("one event with id, type and JSON data", () => {
  const parser = new SseParser();
  const events = parser.push('id: 7\nevent: tangible.rewards.v1.reward_granted\ndata: {"a":1}\n\n');
  assert.deepEqual(events, [{ id: "7", event: "tangible.rewards.v1.reward_granted", data: '{"a":1}' }]);
  assert.equal(parser.lastEventId, "7");
});

test("lines split across chunks anywhere, CRLF split between chunks", () => {
  const text = "id: a1\r\nevent: x\r\ndata: hello\r\ndata: world\r\n\r\nid: a2\rdata: second\r\r";
  for (let cut = 0; cut <= text.length; cut++) {
    const parser = new SseParser();
    const events = [...parser.push(text.slice(0, cut)), ...parser.push(text.slice(cut))];
    assert.deepEqual(
      events,
      [
        { id: "a1", event: "x", data: "hello\nworld" },
        { id: "a2", event: "message", data: "second" },
      ],
      `cut at ${cut}`,
    );
  }
});

test("one character at a time", () => {
  const parser = new SseParser();
  const events = [..."event: e\ndata: d\n\n"].flatMap((c) => parser.push(c));
  assert.deepEqual(events, [{ id: undefined, event: "e", data: "d" }]);
});

test("comments, unknown fields, no space after the colon, empty data lines", () => {
  const parser = new SseParser();
  const events = parser.push(": keep-alive\nfoo: bar\ndata:x\ndata\ndata: \n\n");
  assert.deepEqual(events, [{ id: undefined, event: "message", data: "x\n\n" }]);
});

test("an event without data is not dispatched, but its id is kept", () => {
  const parser = new SseParser();
  assert.deepEqual(parser.push("id: 9\nevent: e\n\n"), []);
  assert.equal(parser.lastEventId, "9");
  assert.deepEqual(parser.push("data: d\n\n"), [{ id: "9", event: "message", data: "d" }]);
});

test("the event type does not leak into the next event", () => {
  const parser = new SseParser();
  const events = parser.push("event: a\ndata: 1\n\ndata: 2\n\n");
  assert.deepEqual(
    events.map((e) => e.event),
    ["a", "message"],
  );
});

test("a leading byte order mark is ignored; ids with NUL are ignored; retry is read", () => {
  const parser = new SseParser("start");
  const events = parser.push("\uFEFFretry: 2500\nid: bad\0id\ndata: d\n\n");
  assert.deepEqual(events, [{ id: "start", event: "message", data: "d" }]);
  assert.equal(parser.retry, 2500);
});

test("an incomplete event at the end is held until its blank line", () => {
  const parser = new SseParser();
  assert.deepEqual(parser.push("data: partial"), []);
  assert.deepEqual(parser.push("\n"), []);
  assert.deepEqual(parser.push("\n"), [{ id: undefined, event: "message", data: "partial" }]);
});

test("backoff grows exponentially, is capped and jittered", () => {
  assert.equal(backoffDelay(0, 1000, 30000, () => 1), 1000);
  assert.equal(backoffDelay(0, 1000, 30000, () => 0), 500);
  assert.equal(backoffDelay(3, 1000, 30000, () => 1), 8000);
  assert.equal(backoffDelay(10, 1000, 30000, () => 1), 30000);
  assert.equal(backoffDelay(1000, 1000, 30000, () => 0), 15000);
});
