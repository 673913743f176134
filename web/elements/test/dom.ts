// Node has no DOM: just enough of one for the components' classes to be defined (never
// connected), so that their rendering can be tested here. Import it before any component.
const scope = globalThis as Record<string, unknown>;
scope.HTMLElement ??= class {};

export {};
