// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${...} here is manifest / Serverless syntax.
import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateAll } from '../../infra/generate.js';
import {
  type FunctionManifest,
  manifestEnvironment,
  readManifests,
  serverlessValue,
  validateManifest,
} from '../../infra/manifest.js';
import { runTs } from './support/run-cli.js';

const ROOT = resolve(import.meta.dirname, '..', '..');

describe('function manifests', () => {
  it('every function folder has a valid function.json', async () => {
    const folders = (await readdir(join(ROOT, 'functions'), { withFileTypes: true }))
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name)
      .sort();
    const manifests = await readManifests();
    expect(manifests.map((m) => m.name)).toEqual(folders);
    expect(folders).toEqual(
      expect.arrayContaining(['metrics-reporter', 'object-fanout', 'order-confirmation', 'order-fulfilment']),
    );
  });

  it('names only topics the embedded broker creates', async () => {
    const topics = Object.keys(
      JSON.parse(await readFile(join(ROOT, 'infra', 'local-broker', 'topics.json'), 'utf8')),
    );
    for (const manifest of await readManifests()) {
      for (const topic of [...manifest.topics.sends, ...manifest.topics.consumes])
        expect({ function: manifest.name, topic, known: topics.includes(topic) }).toMatchObject({
          known: true,
        });
    }
  });

  it('committed infra/fc/config.json, s.yaml and serverless.yml match a fresh generation', async () => {
    for (const { file, text } of await generateAll()) {
      expect({ file, text: await readFile(file, 'utf8') }).toEqual({ file, text });
    }
  });

  it('`npm run generate -- --check` passes on the committed files', async () => {
    const run = await runTs('infra/generate.ts', ['--check']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
  });

  it('rejects a manifest with every problem listed, naming the field', () => {
    const errors = validateManifest(
      {
        name: 'other',
        description: '',
        trigger: 'queue',
        timeout: 0,
        memory: 512,
        environment: { A: 1 },
        topics: { sends: 'orders' },
        http: { paths: ['/_dev/x'], methods: [] },
        fc: { triggers: [{ name: 't', type: 'http', authType: 'anonymous', methods: [] }] },
        aws: { events: 'x' },
        extra: true,
      },
      'mine',
    );
    for (const expected of [
      'unknown key "extra"',
      'name must be "mine"',
      'description',
      'trigger must be one of',
      'timeout must be',
      'environment must',
      'topics must',
      'http must',
      'fc.',
      'aws.events',
    ]) {
      expect(errors.some((error) => error.includes(expected))).toBe(true);
    }
  });

  it('applies the environment locally as the platform would: defaults, the shell first, Lambda-only extras', () => {
    const manifest = {
      environment: { TOPIC: '${TOPIC:-orders}', FIXED: 'x', NEEDED: '${NEEDED}', EMPTY: '${EMPTY:-}' },
      aws: { environment: { GROUP: '${GROUP:-GID_a}' }, events: [] },
    } as unknown as FunctionManifest;
    expect(manifestEnvironment(manifest, 'fc', {})).toEqual({ TOPIC: 'orders', FIXED: 'x' });
    expect(manifestEnvironment(manifest, 'aws', { TOPIC: 'mine', NEEDED: 'n' })).toEqual({
      TOPIC: 'mine',
      FIXED: 'x',
      NEEDED: 'n',
      GROUP: 'GID_a',
    });
  });

  it('writes placeholders in the Serverless Framework syntax', () => {
    expect(serverlessValue('${ORDERS_TOPIC:-orders}')).toBe("${env:ORDERS_TOPIC, 'orders'}");
    expect(serverlessValue('${ROCKETMQ_ENDPOINTS}')).toBe('${env:ROCKETMQ_ENDPOINTS}');
    expect(serverlessValue('3000')).toBe('3000');
  });
});
