/**
 * Tangible's drop-in web components, one script tag:
 *
 *   <script src="https://tangible.example/elements/v1/tangible-elements.js"
 *           integrity="sha384-…" crossorigin="anonymous"></script>
 *   <script>Tangible.configure({ entitlementsUrl, rewardsUrl, notificationsUrl, account, token })</script>
 *   <tangible-value></tangible-value> <tangible-inbox></tangible-inbox> …
 *
 * or `data-entitlements-url`, `data-account`, `data-token`, … on the script tag itself.
 */

import { configFromDataset, configure, type TangibleConfig } from "./config";
import { TangibleEntitlements } from "./elements/entitlements";
import { TangibleInbox } from "./elements/inbox";
import { TangibleMilestones } from "./elements/milestones";
import { TangibleRewards } from "./elements/rewards";
import { TangibleValue } from "./elements/value";
import { de, en } from "./i18n";
import { currentSession } from "./session";

const VERSION = "1.0.0";

const ELEMENTS: Array<[string, CustomElementConstructor]> = [
  ["tangible-value", TangibleValue],
  ["tangible-entitlements", TangibleEntitlements],
  ["tangible-milestones", TangibleMilestones],
  ["tangible-rewards", TangibleRewards],
  ["tangible-inbox", TangibleInbox],
];

declare global {
  interface Window {
    Tangible?: typeof api;
    TangibleConfig?: Partial<TangibleConfig>;
  }
}

const api = {
  version: VERSION,
  configure,
  strings: { en, de },
  /** How live updates arrive right now: `streaming`, `polling`, `connecting`, … */
  liveMode: (): string => currentSession()?.live.mode ?? "idle",
};

const script = document.currentScript as HTMLScriptElement | null;
const fromScript = script ? configFromDataset({ ...script.dataset }) : {};
if (window.TangibleConfig || Object.keys(fromScript).length > 0) configure({ ...window.TangibleConfig, ...fromScript });
window.Tangible = api;
for (const [name, element] of ELEMENTS) if (!customElements.get(name)) customElements.define(name, element);
