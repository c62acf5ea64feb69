/** What vitest.config.ts gives each project's tests through `provide` / `inject`. */
declare module 'vitest' {
  export interface ProvidedContext {
    /** The transport this vitest project runs its producers on. */
    transport: 'lean' | 'official';
  }
}

export {};
