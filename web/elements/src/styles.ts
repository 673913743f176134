/**
 * The components' styles. Vendors theme them with CSS custom properties (light values as
 * `--tangible-<name>`, dark ones as `--tangible-dark-<name>`) and `::part(...)`; the table below
 * is the documented list (README), with the defaults.
 */

/** [name, light default, dark default] */
export const THEME: ReadonlyArray<readonly [string, string, string]> = [
  ["color-text", "#1b1f29", "#eef0f5"],
  ["color-muted", "#525a6b", "#b3bac8"],
  ["color-background", "#ffffff", "#14171e"],
  ["color-surface", "#f4f6fa", "#1f2430"],
  ["color-border", "#d6dbe4", "#3a4152"],
  ["color-accent", "#2c55c9", "#9db8ff"],
  ["color-on-accent", "#ffffff", "#0d1430"],
  ["color-success", "#1d7a46", "#7fdca7"],
  ["color-warning", "#8a5a00", "#f2c46b"],
  ["color-danger", "#b42318", "#ff9b91"],
  ["color-track", "#e3e7ef", "#343b4b"],
];

/** Theme-independent properties: [name, default]. */
export const LAYOUT: ReadonlyArray<readonly [string, string]> = [
  ["font-family", "system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', sans-serif"],
  ["font-size", "14px"],
  ["radius", "10px"],
  ["spacing", "12px"],
  ["bar-height", "8px"],
  ["shadow", "0 8px 24px rgba(0, 0, 0, 0.18)"],
  ["panel-width", "360px"],
  ["focus-ring", "2px solid var(--_color-accent)"],
];

const vars = (dark: boolean): string =>
  THEME.map(([name, light, darkValue]) =>
    dark
      ? `--_${name}: var(--tangible-dark-${name}, ${darkValue});`
      : `--_${name}: var(--tangible-${name}, ${light});`,
  ).join("");

export const CSS = `
:host{${vars(false)}${LAYOUT.map(([n, v]) => `--_${n}: var(--tangible-${n}, ${v});`).join("")}
display:block;font-family:var(--_font-family);font-size:var(--_font-size);line-height:1.45;color:var(--_color-text)}
:host([hidden]){display:none}
@media (prefers-color-scheme: dark){:host(:not([theme=light]):not([data-theme=light])){${vars(true)}}}
:host([theme=dark]),:host([data-theme=dark]){${vars(true)}}
*{box-sizing:border-box}
.card{background:var(--_color-background);border:1px solid var(--_color-border);border-radius:var(--_radius);padding:var(--_spacing);color:var(--_color-text)}
h2{font-size:1.05em;margin:0 0 calc(var(--_spacing) * .75);font-weight:650}
h3{font-size:.95em;margin:calc(var(--_spacing) * .75) 0 calc(var(--_spacing) * .5);font-weight:600;color:var(--_color-muted)}
ul{list-style:none;margin:0;padding:0}
li{padding:calc(var(--_spacing) * .5) 0;border-top:1px solid var(--_color-border)}
li:first-child{border-top:0}
p{margin:0}
.muted{color:var(--_color-muted);font-size:.92em}
.row{display:flex;justify-content:space-between;align-items:baseline;gap:8px;flex-wrap:wrap}
.big{font-size:1.6em;font-weight:700;margin:0 0 4px}
.name{font-weight:600}
.bar{height:var(--_bar-height);background:var(--_color-track);border-radius:999px;overflow:hidden;margin:6px 0 4px}
.fill{height:100%;background:var(--_color-accent);border-radius:999px;transition:width .3s ease}
.fill.full{background:var(--_color-warning)}
.fill.done{background:var(--_color-success)}
.badges{display:flex;gap:6px;flex-wrap:wrap;margin-top:4px}
.badge{display:inline-block;font-size:.8em;padding:1px 8px;border-radius:999px;border:1px solid var(--_color-border);background:var(--_color-surface);color:var(--_color-text)}
.badge.trial{border-color:var(--_color-accent)}
.badge.grant{border-color:var(--_color-success)}
.state{padding:var(--_spacing);border-radius:var(--_radius);background:var(--_color-surface);color:var(--_color-text)}
.state.problem{border-left:4px solid var(--_color-danger)}
.skeleton{height:1em;border-radius:4px;background:var(--_color-track);margin:6px 0;width:70%}
button,a.button{font:inherit;cursor:pointer;border-radius:8px;border:1px solid var(--_color-border);background:var(--_color-surface);color:var(--_color-text);padding:4px 10px;text-decoration:none;display:inline-block}
button.primary,a.button.primary{background:var(--_color-accent);color:var(--_color-on-accent);border-color:var(--_color-accent)}
button:disabled{opacity:.55;cursor:not-allowed}
button:focus-visible,a:focus-visible,select:focus-visible,[tabindex]:focus-visible{outline:var(--_focus-ring);outline-offset:2px}
select{font:inherit;color:var(--_color-text);background:var(--_color-background);border:1px solid var(--_color-border);border-radius:6px;padding:2px 6px}
.sr-only{position:absolute;width:1px;height:1px;padding:0;margin:-1px;overflow:hidden;clip:rect(0,0,0,0);white-space:nowrap;border:0}
svg.spark{display:block;width:100%;height:32px;margin-top:4px}
svg.spark polyline{fill:none;stroke:var(--_color-accent);stroke-width:1.5;stroke-linejoin:round;stroke-linecap:round}
.positive{color:var(--_color-success)}
.negative{color:var(--_color-danger)}
.upgrade{margin-top:var(--_spacing);padding:var(--_spacing);border-radius:var(--_radius);background:var(--_color-surface);border:1px dashed var(--_color-accent)}
`;
