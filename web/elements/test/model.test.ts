import assert from "node:assert/strict";
import { test } from "node:test";

import { configFromDataset } from "../src/config";
import { createI18n, de, en } from "../src/i18n";
import { expiringSoon, ledgerNote, periodRange, signed, sparklinePoints, splitMilestones, usagePercent } from "../src/model";

test("period ranges are local dates from the period's first day to today", () => {
  const now = new Date(2030, 4, 17, 15, 0); // 17 May
  assert.deepEqual(periodRange("month", now), { from: "2030-05-01", to: "2030-05-17" });
  assert.deepEqual(periodRange("quarter", now), { from: "2030-04-01", to: "2030-05-17" });
  assert.deepEqual(periodRange("year", now), { from: "2030-01-01", to: "2030-05-17" });
  assert.deepEqual(periodRange("quarter", new Date(2030, 11, 31)), { from: "2030-10-01", to: "2030-12-31" });
});

test("sparkline points span the box, higher values are higher up", () => {
  assert.equal(sparklinePoints([0, 10], 100, 20, 0), "0,20 100,0");
  assert.equal(sparklinePoints([5], 100, 20, 0), "50,0");
  assert.equal(sparklinePoints([], 100, 20), "");
  assert.equal(sparklinePoints([0, 0, 0], 100, 20, 0), "0,20 50,20 100,20");
});

test("usage percent is clamped and undefined without a limit", () => {
  assert.equal(usagePercent(1, 2), 50);
  assert.equal(usagePercent(5, 2), 100);
  assert.equal(usagePercent(1, null), undefined);
  assert.equal(usagePercent(0, 0), 0);
});

test("expiring soon sums the buckets inside the window, dated by the first", () => {
  const now = new Date("2030-01-01T00:00:00Z");
  const buckets = [
    { amount: "10.00", expires_at: "2030-01-20T00:00:00Z" },
    { amount: "5", expires_at: "2030-01-10T00:00:00Z" },
    { amount: "100", expires_at: "2030-06-01T00:00:00Z" },
    { amount: "7", expires_at: null },
  ];
  assert.deepEqual(expiringSoon(buckets, now, 30), { amount: 15, date: "2030-01-10T00:00:00Z" });
  assert.equal(expiringSoon(buckets, now, 5), undefined);
});

test("milestones split into reached and next, closest first; missed ones are dropped", () => {
  const m = (name: string, percent: number, status: string) =>
    ({ rule_key: name, name, percent, status, reached: status === "reached", current: 0, target: 1, remaining: 1, unit: "", reward: { kind: "credits" } });
  const { reached, next } = splitMilestones([m("a", 20, "in_progress"), m("b", 100, "reached"), m("c", 80, "in_progress"), m("d", 10, "missed")]);
  assert.deepEqual(reached.map((x) => x.name), ["b"]);
  assert.deepEqual(next.map((x) => x.name), ["c", "a"]);
});

test("ledger notes come from the provenance, amounts carry a sign", () => {
  const entry = (provenance: Record<string, unknown>) => ({ entry_id: 1, kind: "grant", amount: "1", created_at: "", provenance });
  assert.equal(ledgerNote(entry({ type: "adjustment", reason: "goodwill" })), "goodwill");
  assert.equal(ledgerNote(entry({ type: "grant", rule_key: "first-report" })), "first-report");
  assert.equal(ledgerNote(entry({ type: "expiry" })), "");
  assert.equal(signed(5, String), "+5");
  assert.equal(signed(-5, String), "−5");
});

test("strings: placeholders, plurals, overrides, fallback to the language and to English", () => {
  const i18n = createI18n("en-US", { "rewards.title": "Bonus points" });
  assert.equal(i18n.t("rewards.title"), "Bonus points");
  assert.equal(i18n.t("inbox.new", { n: 1 }), "1 new notification");
  assert.equal(i18n.t("inbox.new", { n: 3 }), "3 new notifications");
  assert.equal(i18n.t("entitlements.usage", { usage: 1, limit: 2 }), "1 of 2 used");
  assert.equal(createI18n("de-AT").t("inbox.title"), "Benachrichtigungen");
  assert.equal(createI18n("fr").t("inbox.title"), "Notifications");
  assert.equal(createI18n("not a locale!").locale, "en");
});

test("numbers and dates are formatted per locale by Intl", () => {
  assert.equal(createI18n("en").number(4366.5), "4,366.5");
  assert.equal(createI18n("de").number(4366.5), "4.366,5");
  assert.equal(createI18n("en").percent(80), "80%");
  assert.equal(createI18n("de").percent(80), "80\u00a0%");
  assert.match(createI18n("de").date("2030-03-05T12:00:00Z"), /05\.03\.2030/);
});

test("German has every English string", () => {
  assert.deepEqual(Object.keys(de).sort(), Object.keys(en).sort());
});

test("data attributes become options; empty and malformed ones are dropped", () => {
  assert.deepEqual(
    configFromDataset({ entitlementsUrl: "http://e", account: "a-1", token: "t", pollInterval: "500", theme: "dark", locale: "" }),
    { entitlementsUrl: "http://e", account: "a-1", token: "t", pollInterval: 500, theme: "dark" },
  );
  assert.deepEqual(configFromDataset({ pollInterval: "soon", theme: "pink" }), {});
});
