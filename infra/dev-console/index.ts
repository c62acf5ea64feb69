import type { ChildProcess } from 'node:child_process';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { getProducer, hasOpenSharedProducer } from '../../lib/producer/shared.js';
import { fromRocketMQEvent } from '../../lib/triggers/index.js';
import { devSpoolRoute } from '../dev-spool.js';
import type { LocalBroker } from '../local-broker/index.js';
import type { FunctionManifest } from '../manifest.js';
import { InvocationCapture } from './capture.js';
import { ConsoleHub } from './hub.js';
import type { FunctionView, InvocationView } from './model.js';
import { CONSOLE_ROUTES, type ConsoleAssets, readAssets, serveConsole } from './routes.js';
import { readSamples, runSample, type Sample } from './samples.js';

/**
 * The dev console: a page at `/_dev/` that shows the workflow as it runs (the graph of functions and
 * topics, the stored messages, the invocations with their sends and log lines, the producer's health
 * and the spool) and invokes a function with any sample event. The dev server wires it in; this module
 * holds all of it.
 */

export { CONSOLE_ROUTES };

const STATS_EVERY_MS = 1000;
const SPOOL_EVERY_MS = 2000;

export interface DevConsoleOptions {
  manifests: readonly FunctionManifest[];
  eventsDir: string;
  /** Whether the dev server runs the embedded broker (else `ROCKETMQ_ENDPOINTS` names another). */
  embedded: boolean;
  endpoint: string;
}

type InvocationFields = Pick<InvocationView, 'functionName' | 'platform' | 'trigger' | 'source' | 'sample'>;

function triggerLabel(manifest: FunctionManifest): string {
  switch (manifest.trigger) {
    case 'http':
      return `HTTP ${manifest.http?.methods.join('|') ?? ''} ${manifest.http?.paths.join(', ') ?? ''}`.trim();
    case 'object':
      return 'OSS / S3 object created';
    case 'timer': {
      const timer = manifest.fc.triggers.find((t) => t.type === 'timer') as
        | { cronExpression?: string }
        | undefined;
      return `timer ${timer?.cronExpression ?? ''}`.trim();
    }
    case 'rocketmq':
      return `RocketMQ ${manifest.topics.consumes.join(', ')}`;
  }
}

export class DevConsole {
  readonly hub: ConsoleHub;
  readonly capture: InvocationCapture;
  readonly #samples: Sample[];
  readonly #assets: ConsoleAssets;
  readonly #options: DevConsoleOptions;
  readonly #children = new Set<ChildProcess>();
  readonly #seen = new Map<string, number>();
  readonly #toScan = new Set<string>();
  readonly #timers: NodeJS.Timeout[] = [];
  #broker: LocalBroker | undefined;
  #scanScheduled = false;
  #spoolBusy = false;

  private constructor(options: DevConsoleOptions, samples: Sample[], assets: ConsoleAssets) {
    this.#options = options;
    this.#samples = samples;
    this.#assets = assets;
    const functions: FunctionView[] = options.manifests.map((manifest) => ({
      name: manifest.name,
      description: manifest.description,
      trigger: manifest.trigger,
      triggerLabel: triggerLabel(manifest),
      sends: manifest.topics.sends,
      consumes: manifest.topics.consumes,
      samples: samples
        .filter((sample) => sample.functionName === manifest.name)
        .map(({ path, platform }) => ({ path, platform })),
    }));
    this.hub = new ConsoleHub({ embedded: options.embedded, endpoint: options.endpoint }, functions);
    this.capture = new InvocationCapture(this.hub);
    this.#timers.push(
      setInterval(() => this.#sampleStats(), STATS_EVERY_MS),
      setInterval(() => void this.#sampleSpool(), SPOOL_EVERY_MS),
    );
    for (const timer of this.#timers) timer.unref();
  }

  static async start(options: DevConsoleOptions): Promise<DevConsole> {
    const [samples, assets] = await Promise.all([
      readSamples(options.eventsDir, options.manifests),
      readAssets(),
    ]);
    return new DevConsole(options, samples, assets);
  }

  /** The embedded broker whose stored messages the console shows. */
  attachBroker(broker: LocalBroker): void {
    this.#broker = broker;
  }

  /**
   * The embedded broker's line for each stored message (its `log` option): the message itself is read
   * from the broker right after, for every topic that stored one since.
   */
  readonly onBrokerLine = (line: string): void => {
    const topic = /^stored topic=(\S+)/.exec(line)?.[1];
    if (topic === undefined) return;
    this.#toScan.add(topic);
    if (this.#scanScheduled) return;
    this.#scanScheduled = true;
    // After the store call returns: the broker is still in the middle of it now.
    setImmediate(() => this.#scan());
  };

  #scan(): void {
    this.#scanScheduled = false;
    const broker = this.#broker;
    if (!broker) return;
    for (const topic of this.#toScan) {
      const all = broker.messages(topic);
      const seen = Math.min(this.#seen.get(topic) ?? 0, all.length);
      for (const message of all.slice(seen)) this.hub.addMessage(message, this.capture.senderOf(message));
      this.#seen.set(topic, all.length);
    }
    this.#toScan.clear();
  }

  /** Runs one invocation of a function as the console's record of it. */
  invoke<T>(fields: InvocationFields, call: () => Promise<T>): Promise<T> {
    return this.capture.run(this.hub.startInvocation(fields), call);
  }

  /** An invocation by a RocketMQ trigger: its batch's messages are linked to it as consumed. */
  invokeByTrigger<T>(functionName: string, event: Buffer, call: () => Promise<T>): Promise<T> {
    const consumed = this.#consumedBy(event);
    const topics = [...new Set(consumed.map((m) => m.topic))].join(', ');
    const invocation = this.hub.startInvocation({
      functionName,
      platform: 'fc',
      trigger: 'rocketmq',
      source: `${consumed.length} message(s) from ${topics || 'the trigger'}`,
      sample: null,
    });
    this.hub.addConsumed(invocation, consumed);
    return this.capture.run(invocation, call);
  }

  #consumedBy(event: unknown): { messageId: string; topic: string }[] {
    try {
      const consumed = new Map<string, { messageId: string; topic: string }>();
      for (const m of fromRocketMQEvent(event as never)) {
        const messageId = m.pack?.messageId ?? m.messageId;
        if (messageId !== undefined) consumed.set(messageId, { messageId, topic: m.topic });
      }
      return [...consumed.values()];
    } catch {
      return [];
    }
  }

  /** The answer to a sample button: runs `npm run invoke` with it and records the invocation. */
  async #invokeSample(path: string, response: ServerResponse): Promise<void> {
    const sample = this.#samples.find((s) => s.path === path);
    if (!sample) {
      return json(response, 404, { error: { code: 'NOT_FOUND', message: `no sample event ${path}` } });
    }
    const manifest = this.#options.manifests.find((m) => m.name === sample.functionName);
    const invocation = this.hub.startInvocation({
      functionName: sample.functionName,
      platform: sample.platform,
      trigger: 'sample',
      source: `npm run invoke -- -f ${sample.functionName} -p events/${sample.path} --platform ${sample.platform}`,
      sample: sample.path,
    });
    const consumed = this.#consumedBy(sample.event);
    if (consumed.length > 0) this.hub.addConsumed(invocation, consumed);
    const started = Date.now();
    try {
      const run = await runSample(sample, {
        eventsDir: this.#options.eventsDir,
        timeoutSeconds: manifest?.timeout ?? 60,
        onLog: (line) => this.hub.addLog(invocation, line),
        children: this.#children,
      });
      this.#attributeChildSends(invocation, started);
      this.hub.endInvocation(invocation, { result: run.result });
      json(response, 200, { invocation: invocation.id, status: 'ok', result: run.result });
    } catch (error) {
      this.#attributeChildSends(invocation, started);
      this.hub.endInvocation(invocation, { error });
      json(response, 200, { invocation: invocation.id, status: 'error', error: invocation.error });
    }
  }

  /**
   * What the child process sent: the messages stored while it ran that no send of this process
   * claimed (every send here is matched to its invocation when it is stored).
   */
  #attributeChildSends(invocation: InvocationView, from: number): void {
    for (const message of this.hub.unattributed(from, Date.now())) {
      this.hub.setSender(message.messageId, invocation.id);
      const send = {
        topic: message.topic,
        mode: 'unknown',
        tag: message.tag,
        keys: message.keys,
        messageId: message.messageId,
        outcome: 'pending' as const,
        error: null,
      };
      this.hub.addSend(invocation, send);
      this.hub.settleSend(invocation, send, 'sent');
    }
  }

  #sampleStats(): void {
    const stats = hasOpenSharedProducer() ? getProducer().stats() : null;
    this.hub.addStats({ at: Date.now(), stats });
  }

  async #sampleSpool(): Promise<void> {
    if (this.#spoolBusy) return;
    this.#spoolBusy = true;
    try {
      // Only a producer a function made: creating it here would fix its options before the function's.
      const answer = hasOpenSharedProducer()
        ? await devSpoolRoute(new URL('http://127.0.0.1/_dev/spool'), this.#broker)
        : { spool: 'none yet (no function has sent)', records: [] };
      this.hub.setSpool(answer as { spool: string; records: unknown[] });
    } catch (error) {
      this.hub.setSpool({ spool: `unreadable: ${(error as Error).message}`, records: [] });
    } finally {
      this.#spoolBusy = false;
    }
  }

  /** Serves a console route; false when the request is not one of them. */
  async route(url: URL, request: IncomingMessage, response: ServerResponse): Promise<boolean> {
    if (url.pathname === '/_dev/invoke' && request.method === 'POST') {
      await this.#invokeSample(url.searchParams.get('sample') ?? '', response);
      return true;
    }
    return serveConsole(url, request, response, {
      assets: this.#assets,
      hub: this.hub,
      sample: (path) => this.#samples.find((s) => s.path === path),
    });
  }

  close(): void {
    for (const timer of this.#timers) clearInterval(timer);
    for (const child of this.#children) child.kill('SIGKILL');
    this.hub.close();
    this.capture.close();
  }
}

function json(response: ServerResponse, status: number, value: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(`${JSON.stringify(value, null, 2)}\n`);
}
