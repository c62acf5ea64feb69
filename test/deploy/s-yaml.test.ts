// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${...} here is config / Serverless syntax, not a template.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { readConfigFile, triggersOf } from '../../infra/fc/config.js';
import { fcTriggerType } from '../../infra/fc/plan.js';
import { devsValue, generateSYaml } from '../../infra/fc/s-yaml.js';
import { toYaml } from '../../infra/fc/yaml-emit.js';

const ROOT = resolve(import.meta.dirname, '..', '..');

interface Resource {
  component: string;
  props: {
    functionName: string;
    runtime: string;
    handler: string;
    code: string;
    memorySize: number;
    timeout: number;
    environmentVariables: Record<string, string>;
    instanceLifecycleConfig: { initializer: { handler: string }; preStop: { handler: string } };
    triggers: {
      triggerName: string;
      triggerType: string;
      triggerConfig: Record<string, unknown>;
      sourceArn?: string;
    }[];
  };
}

describe('s.yaml (Serverless Devs, fc3)', () => {
  it('is what infra/fc/config.json generates (run npm run build:s-yaml after editing the config)', async () => {
    const committed = await readFile(resolve(ROOT, 's.yaml'), 'utf8');
    expect(committed).toBe(generateSYaml(await readConfigFile()));
  });

  it('describes the same functions, sizes, hooks and triggers as the FC 2.0 deploy', async () => {
    const config = await readConfigFile();
    const parsed = load(await readFile(resolve(ROOT, 's.yaml'), 'utf8')) as {
      edition: string;
      resources: Record<string, Resource>;
    };
    expect(parsed.edition).toBe('3.0.0');
    expect(Object.keys(parsed.resources)).toEqual(Object.keys(config.functions));
    for (const [name, fn] of Object.entries(config.functions)) {
      const { component, props } = parsed.resources[name] as Resource;
      expect(component).toBe('fc3');
      expect(props).toMatchObject({
        runtime: 'nodejs20',
        handler: 'index.handler',
        code: `./dist/fc/${name}.zip`,
        memorySize: fn.memorySize,
        timeout: fn.timeout,
        instanceLifecycleConfig: {
          initializer: { handler: 'index.initializer' },
          preStop: { handler: 'index.preStop' },
        },
      });
      expect(props.functionName.endsWith(`-${name}`)).toBe(true);
      expect(props.triggers).toHaveLength(triggersOf(fn).length);
      expect(props.triggers[0]).toMatchObject({
        triggerName: fn.trigger.name,
        triggerType: fcTriggerType(fn.trigger),
      });
      for (const variable of Object.keys({ ...config.environment, ...fn.environment })) {
        expect(props.environmentVariables).toHaveProperty(variable);
      }
    }
    const oss = parsed.resources['object-fanout']?.props.triggers[0];
    expect(oss?.sourceArn).toBe("acs:oss:${vars.region}:${config('AccountID')}:${env('OSS_BUCKET')}");
    const timer = parsed.resources['metrics-reporter']?.props.triggers[0]?.triggerConfig;
    expect(String(timer?.cronExpression).split(' ')).toHaveLength(6);
  });

  it('turns config placeholders into Serverless Devs env variables', () => {
    expect(devsValue('${ROCKETMQ_ENDPOINTS}')).toBe("${env('ROCKETMQ_ENDPOINTS')}");
    expect(devsValue('${ORDERS_TOPIC:-orders}')).toBe("${env('ORDERS_TOPIC', 'orders')}");
    expect(devsValue('${ROCKETMQ_NAMESPACE:-}')).toBe("${env('ROCKETMQ_NAMESPACE', '')}");
    expect(devsValue('plain text')).toBe('plain text');
  });
});

describe('the YAML writer', () => {
  it('writes what a YAML parser reads back unchanged, quoting whatever could be misread', () => {
    const data = {
      plain: 'index.handler',
      colon: 'a: b',
      hash: 'x #y',
      star: '0 */5 * * * *',
      version: '3.0.0',
      boolLike: 'true',
      numberLike: '3000',
      empty: '',
      json: '{"a":1}',
      magic: "${env('A', 'b')}-suffix",
      quote: 'it\'s "quoted"',
      unicode: 'ünïcode',
      number: 512,
      flag: false,
      list: ['POST', 'oss:ObjectCreated:*', { nested: ['x'] }],
      emptyList: [],
      emptyObject: {},
      deep: { a: { b: { c: 'd' } } },
    };
    expect(load(toYaml(data))).toEqual(data);
  });
});
