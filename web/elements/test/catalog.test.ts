import assert from "node:assert/strict";
import { test } from "node:test";

import { affordable, type CatalogItem, canRedeem, idempotencyKey, suggestionReason, tokenClaims } from "../src/model";

const jwt = (claims: object): string =>
  `e30.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.signature-not-checked`;

test("token claims are read without verification, and garbage reads as none", () => {
  assert.deepEqual(tokenClaims(jwt({ prm: ["redeem"], acc: "ä-1" })), { prm: ["redeem"], acc: "ä-1" });
  assert.deepEqual(tokenClaims("not-a-token"), {});
  assert.deepEqual(tokenClaims("a.!!!.c"), {});
  assert.deepEqual(tokenClaims(`a.${Buffer.from("[1]").toString("base64url")}.c`), {});
});

test("only a token with redeem (or an admin one) is offered the Redeem button", () => {
  assert.equal(canRedeem(tokenClaims(jwt({ scp: ["read"], knd: "portal", prm: ["redeem"] }))), true);
  assert.equal(canRedeem(tokenClaims(jwt({ scp: ["read"], knd: "portal" }))), false);
  assert.equal(canRedeem(tokenClaims(jwt({ scp: ["admin"] }))), true);
  assert.equal(canRedeem({ prm: "redeem" }), false);
});

test("an item is affordable when available and covered by the balance", () => {
  const item: CatalogItem = {
    key: "k",
    name: "K",
    description: null,
    price: "40.00",
    unit: "credits",
    stock: 1,
    availability: "available",
  };
  assert.equal(affordable(item, "40.00"), true);
  assert.equal(affordable(item, "39.99"), false);
  assert.equal(affordable({ ...item, availability: "out_of_stock" }, "100"), false);
  assert.notEqual(idempotencyKey(), idempotencyKey());
});

test("a suggestion's description speaks of its latest evidence", () => {
  const evidence = [
    { feature_key: "reports", usage: 9, limit: 10 },
    { feature_key: "reports", usage: 8, limit: 10 },
  ];
  const s = { reason: "near_limit" as const, suggestion_kind: "plan" as const, suggestion_key: "growth", suggestion_name: null, evidence };
  assert.deepEqual(suggestionReason(s), { key: "entitlements.suggestion.near_limit", feature: "reports", usage: 8, limit: 10 });
  assert.equal(suggestionReason({ ...s, evidence: [] }), undefined);
});
