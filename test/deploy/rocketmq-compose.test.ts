import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { topics } from '../../functions/topics.js';

/** Docker is not available to the tests: this checks the compose file's shape and the topics it creates. */

const ROOT = resolve(import.meta.dirname, '..', '..');

interface Service {
  image: string;
  command: string | string[];
  environment?: Record<string, string>;
  ports?: string[];
  depends_on?: Record<string, { condition: string }>;
}

async function compose() {
  const text = await readFile(resolve(ROOT, 'infra', 'rocketmq', 'docker-compose.yml'), 'utf8');
  return { text, parsed: load(text) as { services: Record<string, Service> } };
}

function createdTopics(service: Service | undefined): Map<string, string> {
  const entries = (service?.environment?.TOPICS ?? '').split(/\s+/).filter(Boolean);
  return new Map(entries.map((entry) => entry.split(':') as [string, string]));
}

describe('infra/rocketmq/docker-compose.yml', () => {
  it('runs NameServer, broker and proxy (cluster mode) of Apache RocketMQ 5, the proxy on 8081', async () => {
    const { services } = (await compose()).parsed;
    expect(Object.keys(services).sort()).toEqual(['broker', 'namesrv', 'proxy', 'topics']);
    for (const service of Object.values(services))
      expect(service.image).toMatch(/^apache\/rocketmq:5\.\d+\.\d+$/);
    expect(services.namesrv?.command).toBe('sh mqnamesrv');
    expect(services.broker?.command).toBe('sh mqbroker');
    expect(services.proxy?.command).toBe('sh mqproxy');
    expect(services.broker?.environment?.NAMESRV_ADDR).toBe('namesrv:9876');
    expect(services.proxy?.environment?.NAMESRV_ADDR).toBe('namesrv:9876');
    expect(services.proxy?.ports).toContain('8081:8081');
    expect(services.topics?.depends_on?.broker?.condition).toBe('service_healthy');
  });

  it('creates every topic the functions use, with the type the embedded broker gives it', async () => {
    const created = createdTopics((await compose()).parsed.services.topics);
    const local = JSON.parse(await readFile(resolve(ROOT, 'infra', 'local-broker', 'topics.json'), 'utf8'));
    for (const topic of [topics.orders, topics.objectEvents, topics.metrics, 'logs']) {
      expect(created.get(topic), topic).toBe('NORMAL');
      expect(local[topic], topic).toBe('NORMAL');
    }
    for (const [topic, type] of created) {
      expect(['NORMAL', 'FIFO', 'DELAY', 'TRANSACTION']).toContain(type);
      expect(local[topic], topic).toBe(type);
    }
  });

  it('creates them with mqadmin updateTopic and the message.type attribute, escaping $ from compose', async () => {
    const { parsed } = await compose();
    const script = [parsed.services.topics?.command].flat().join('\n');
    expect(script).toMatch(
      /sh mqadmin updateTopic -n "\$\$NAMESRV_ADDR" -c DefaultCluster -t "\$\$topic" -a "\+message\.type=\$\$type"/,
    );
    // A lone $ would be replaced by docker compose before the shell ever saw it.
    expect(script.replaceAll('$$', '')).not.toContain('$');
  });
});
