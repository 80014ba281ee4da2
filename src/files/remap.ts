// Rewrites of requested names for firmware that asks for odd paths, applied before normalisation.
// Pure.

export interface RemapRule {
  /** Matched against the whole requested name; use the g flag to replace every occurrence. */
  pattern: RegExp;
  replacement: string;
}

/** Windows loaders (WDS, bootmgr) ask for paths with backslashes: treat them as '/'. */
export const BACKSLASH_TO_SLASH: RemapRule = { pattern: /\\/g, replacement: '/' };

export const DEFAULT_TFTP_REMAP: readonly RemapRule[] = [BACKSLASH_TO_SLASH];

/** Applies every rule in order, each to the result of the previous one. */
export function applyRemap(name: string, rules: readonly RemapRule[]): string {
  let out = name;
  for (const r of rules) out = out.replace(r.pattern, r.replacement);
  return out;
}
