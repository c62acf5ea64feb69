import type { Metafile } from 'esbuild';
import { ESM_REQUIRE_BANNER } from './bundle.js';
import { FORBIDDEN_EVERYWHERE, type PlatformTarget } from './targets.js';

/** Checks on what esbuild put into a bundle, read from its metafile and output; each returns problems. */

export function forbiddenInputs(metafile: Metafile, target: PlatformTarget): string[] {
  const rules = [...target.forbiddenInputs, ...FORBIDDEN_EVERYWHERE];
  const problems: string[] = [];
  for (const input of Object.keys(metafile.inputs)) {
    const normalized = input.replaceAll('\\', '/');
    for (const rule of rules) {
      if (rule.pattern.test(normalized)) problems.push(`contains ${input} (${rule.reason})`);
    }
  }
  return problems;
}

/** ESM output that carries CommonJS code needs a real `require`, which only the banner provides. */
export function missingRequireBanner(metafile: Metafile, format: 'cjs' | 'esm', code: string): string[] {
  if (format !== 'esm') return [];
  const hasCommonJs = Object.values(metafile.inputs).some((input) => input.format === 'cjs');
  if (hasCommonJs && !code.startsWith(ESM_REQUIRE_BANNER)) {
    return ['is ESM with CommonJS dependencies but has no createRequire banner'];
  }
  return [];
}
