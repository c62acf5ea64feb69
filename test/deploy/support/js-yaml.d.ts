/** js-yaml 4 comes with osls (a devDependency) and ships no types; tests only parse with it. */
declare module 'js-yaml' {
  export function load(text: string, options?: { filename?: string }): unknown;
}
