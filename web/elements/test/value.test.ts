import "./dom";

import assert from "node:assert/strict";
import { test } from "node:test";

import { TangibleEntitlements } from "../src/elements/entitlements";
import { TangibleValue } from "../src/elements/value";
import { createI18n } from "../src/i18n";
import type { Session } from "../src/session";

/** The markup a component renders for some data: its rendering, without a DOM. */
class ValueProbe extends TangibleValue {
  markup(data: unknown, session: Session): string {
    return this.renderData(data as never, session);
  }
}

class EntitlementsProbe extends TangibleEntitlements {
  markup(data: unknown, session: Session): string {
    return this.renderData(data as never, session);
  }
}

function probe<T extends object>(prototype: T): T {
  const element = Object.create(prototype) as T & { getAttribute(name: string): string | null };
  element.getAttribute = () => null; // period: the default quarter
  return element;
}

const session = (config: object = {}): Session =>
  ({ config: { account: "acct-1", ...config }, i18n: createI18n("en") }) as unknown as Session;

const feature = {
  feature_key: "reports",
  name: "Reports",
  outcome: "Board-ready reports",
  total: 42,
  series: [{ period_start: "2030-04-01", value: 42 }],
  impact: { metric: "hours saved", per_unit: 0.25, value: 10.5 },
  cohort: null,
};
const report = (cohort: object | null) => ({
  from: "2030-04-01",
  to: "2030-05-17",
  features: [{ ...feature, cohort }],
  impact: [{ metric: "hours saved", value: 10.5 }],
});

test("<tangible-value> shows the cohort percentile when the report has one, and nothing when not", () => {
  const value = probe(ValueProbe.prototype);
  const shown = value.markup(report({ plan_key: "starter", percentile: 90 }), session());
  assert.match(shown, /<p class="muted" part="cohort">More than 90% of accounts on your plan<\/p>/);
  assert.match(shown, /≈ 10\.5 hours saved this quarter/);
  const hidden = value.markup(report(null), session());
  assert.doesNotMatch(hidden, /part="cohort"/);
  assert.doesNotMatch(hidden, /of accounts on your plan/);
});

test("<tangible-entitlements> hands an upgrade to the vendor's upgradeUrl as a link", () => {
  const entitlements = probe(EntitlementsProbe.prototype);
  const data = { entitlements: [], names: {}, suggested: [] };
  (entitlements as unknown as { given: unknown }).given = [{ title: "Growth plan", target: "growth" }];
  const url = "https://vendor.example/upgrade?plan=growth&from=portal";
  const linked = entitlements.markup(data, session({ upgradeUrl: url }));
  assert.match(
    linked,
    /<a class="button primary" part="button upgrade-button" data-action="upgrade" data-index="0" href="https:\/\/vendor\.example\/upgrade\?plan=growth&amp;from=portal">See upgrade<\/a>/,
  );
  // a callback wins over the URL: a button that calls it, no link
  const called = entitlements.markup(data, session({ upgradeUrl: url, onUpgrade: () => undefined }));
  assert.match(called, /<button type="button" class="primary" part="button upgrade-button"/);
  assert.doesNotMatch(called, /href=/);
  // neither: the suggestion is shown, with nothing to click
  assert.doesNotMatch(entitlements.markup(data, session()), /upgrade-button/);
});
