/** The report's inlined script and styles, built by the Vite plugin in loadgen/vite.config.ts. */
declare module 'virtual:systembreaker-report' {
  export const script: string;
  export const css: string;
}
