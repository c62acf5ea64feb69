import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as advanced from '../../../lib/entries/advanced.js';
import * as diagnostics from '../../../lib/entries/diagnostics.js';
import * as spool from '../../../lib/entries/spool.js';
import * as main from '../../../lib/index.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');

describe('the main entry', () => {
  it('exports exactly these values: a new one is a decision, made here', () => {
    expect(Object.keys(main).sort()).toEqual([
      'BatchFailedError',
      'ConfigError',
      'ErrorCode',
      'EventError',
      'MessageValidationError',
      'Packer',
      'RocketMQError',
      'createProducer',
      'getLogger',
      'getProducer',
      'isPack',
      'isRocketMQError',
      'processMessages',
      'shutdownSharedProducer',
      'unpack',
      'validateMessage',
    ]);
  });

  it('keeps configuration internals, transports and spools on their own subpaths', () => {
    for (const name of ['resolveConfig', 'DEFAULTS', 'hasOpenSharedProducer', 'FileSpool', 'S3Spool']) {
      expect(main).not.toHaveProperty(name);
    }
    expect(advanced).toHaveProperty('resolveConfig');
    expect(advanced).toHaveProperty('DEFAULTS');
    expect(spool).toHaveProperty('FileSpool');
    expect(spool).toHaveProperty('S3Spool');
  });
});

describe('the diagnostics entry', () => {
  it('exports the channel names as its only value: the event types are the rest of the contract', () => {
    expect(Object.keys(diagnostics)).toEqual(['CHANNEL_NAMES']);
    expect(Object.values(diagnostics.CHANNEL_NAMES).sort()).toEqual([
      'rocketmq-serverless:send:drop',
      'rocketmq-serverless:send:error',
      'rocketmq-serverless:send:retry',
      'rocketmq-serverless:send:spool',
      'rocketmq-serverless:send:start',
      'rocketmq-serverless:send:success',
    ]);
  });
});

describe('package.json exports and tsconfig paths', () => {
  const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    exports: Record<string, string | { import: { default: string } }>;
  };
  const paths = (
    JSON.parse(readFileSync(join(ROOT, 'tsconfig.json'), 'utf8')) as {
      compilerOptions: { paths: Record<string, [string]> };
    }
  ).compilerOptions.paths;

  it('map every library entry to the source its published module is built from', () => {
    const fromLib = Object.entries(manifest.exports).filter(
      (entry): entry is [string, { import: { default: string } }] =>
        typeof entry[1] === 'object' && entry[1].import.default.startsWith('./dist/esm/lib/'),
    );
    expect(fromLib.length).toBeGreaterThan(0);
    for (const [subpath, target] of fromLib) {
      const name = `rocketmq-serverless${subpath.slice(1)}`;
      const source = target.import.default.replace('./dist/esm/', './').replace(/\.js$/, '.ts');
      expect({ name, source: paths[name]?.[0] }).toEqual({ name, source });
    }
  });
});
