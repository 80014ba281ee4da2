// Types for scripts/eslint-layers.js (read by test/unit/docs/layers.test.ts).
export declare const LAYERS: Record<string, { may: string[]; types?: string[] }>;
declare const plugin: { rules: Record<string, unknown> };
export default plugin;
