/** Escaping for the components' HTML templates: every service value goes through `esc`. */

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

export function esc(value: unknown): string {
  return String(value ?? "").replace(/[&<>"']/g, (c) => ESCAPES[c] as string);
}

let counter = 0;
/** An id unique in the page, for aria-labelledby and friends. */
export function uid(prefix: string): string {
  counter += 1;
  return `${prefix}-${counter}`;
}
