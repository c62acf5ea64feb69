/**
 * Summarizes a V8 `.cpuprofile` (from `node --cpu-prof`): the functions with the most self time, time
 * per package, and optionally the inclusive time of functions whose name matches a pattern.
 *
 *   node --import tsx bench/cpuprofile-summary.ts <file.cpuprofile> [--top 25] [--inclusive <regex>]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Where a function comes from: a package name, our own code, Node internals or a V8 pseudo-frame. */
export function origin(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
  if (pkg) return pkg;
  if (url.startsWith('node:')) return 'node internals';
  if (/\/(lib|functions|infra)\//.test(url)) return 'ours';
  if (/\/bench\//.test(url)) return 'bench harness';
  return url;
}

function label(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const file = url
    .replace(/^.*node_modules\//, '')
    .replace(/^file:\/\/.*?\/(lib|functions|bench|infra)\//, '$1/');
  return `${functionName || '(anonymous)'} ${file ? `${file}:${lineNumber + 1}` : ''}`.trim();
}

export function summarize(profile: Profile, top: number, inclusive?: RegExp): string {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const self = new Map<number, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    self.set(id, (self.get(id) ?? 0) + delta);
    total += delta;
  });
  const byFunction = new Map<string, number>();
  const byOrigin = new Map<string, number>();
  for (const [id, time] of self) {
    const node = byId.get(id);
    if (!node) continue;
    const key = label(node);
    byFunction.set(key, (byFunction.get(key) ?? 0) + time);
    const from = origin(node.callFrame.url, node.callFrame.functionName);
    byOrigin.set(from, (byOrigin.get(from) ?? 0) + time);
  }
  const pct = (time: number) => `${((time / total) * 100).toFixed(1).padStart(5)} %`;
  const ms = (time: number) => `${(time / 1000).toFixed(0).padStart(7)} ms`;
  const lines = [`total sampled ${(total / 1000).toFixed(0)} ms`, '', 'self time by origin:'];
  for (const [name, time] of [...byOrigin].sort((a, b) => b[1] - a[1]).slice(0, 15))
    lines.push(`${ms(time)} ${pct(time)}  ${name}`);
  lines.push('', `top ${top} functions by self time:`);
  for (const [name, time] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top))
    lines.push(`${ms(time)} ${pct(time)}  ${name}`);
  if (inclusive) {
    // Inclusive: every sample counts once for each distinct matching function on its stack.
    const inclusiveTime = new Map<string, number>();
    profile.samples.forEach((id, i) => {
      const seen = new Set<string>();
      for (let current: number | undefined = id; current !== undefined; current = parent.get(current)) {
        const node = byId.get(current);
        if (node && inclusive.test(node.callFrame.functionName)) seen.add(label(node));
      }
      for (const key of seen)
        inclusiveTime.set(key, (inclusiveTime.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0));
    });
    lines.push('', `inclusive time of functions matching ${inclusive}:`);
    for (const [name, time] of [...inclusiveTime].sort((a, b) => b[1] - a[1]).slice(0, top))
      lines.push(`${ms(time)} ${pct(time)}  ${name}`);
  }
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values, positionals } = parseArgs({
    options: { top: { type: 'string', default: '25' }, inclusive: { type: 'string' } },
    allowPositionals: true,
  });
  const file = positionals[0];
  if (!file) {
    process.stderr.write('usage: cpuprofile-summary.ts <file.cpuprofile> [--top 25] [--inclusive <regex>]\n');
    process.exit(2);
  }
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const pattern = values.inclusive ? new RegExp(values.inclusive) : undefined;
  process.stdout.write(`${summarize(profile, Number(values.top), pattern)}\n`);
}
