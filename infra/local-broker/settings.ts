import type { ServerDuplexStream } from '@grpc/grpc-js';
import type { RetryPolicy, Settings } from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/definition_pb.js';
import type { TelemetryCommand } from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/service_pb.js';
import { MAX_DELIVERY_ATTEMPTS } from './consumer-groups.js';
import { Code, definition, durationOf, service, statusOf } from './proto.js';

/*
 * The settings race: `startup()` of rocketmq-client-nodejs 1.0.8 opens the Telemetry stream after the
 * first QueryRoute, but listens for the settings reply only after it has fetched every topic's route,
 * one by one. A reply that arrives in between is lost and startup() never resolves. So the broker
 * answers once that client has no QueryRoute open and has not had one answered for a while (delayed
 * responses included), and once more a second later (re-applying settings is idempotent) in case the
 * client was slower than the quiet period.
 */
const ROUTE_QUIET_MS = 50;
const RESEND_AFTER_MS = 1000;
const MAX_TRACKED_CLIENTS = 10_000;

/** PushConsumer.shutdown() waits for its long-polls, so they are kept short. */
export const PUSH_LONG_POLLING_MS = 2000;
const PUSH_RECEIVE_BATCH_SIZE = 32;

export interface SettingsPolicy {
  maxBodySize: number;
  validateMessageType: boolean;
}

type TelemetryCall = ServerDuplexStream<TelemetryCommand, TelemetryCommand>;

interface RouteQueries {
  open: number;
  lastAnsweredAt: number;
}

interface Session {
  readonly call: TelemetryCall;
  readonly clientId: string;
  readonly timers: Set<NodeJS.Timeout>;
}

function retryPolicy(maxAttempts: number, initialMs: number, maxMs: number): RetryPolicy {
  const backoff = new definition.ExponentialBackoff()
    .setInitial(durationOf(initialMs))
    .setMax(durationOf(maxMs))
    .setMultiplier(2);
  return new definition.RetryPolicy().setMaxAttempts(maxAttempts).setExponentialBackoff(backoff);
}

/**
 * The settings the proxy would issue for the client's own settings. Producers need a backoff policy
 * (the client crashes without one) and a positive max body size (it replaces the client's 4 MiB
 * default, and 0 would reject every send).
 */
export function settingsReply(client: Settings, policy: SettingsPolicy): Settings {
  const reply = new definition.Settings()
    .setAccessPoint(client.getAccessPoint())
    .setRequestTimeout(client.getRequestTimeout())
    .setUserAgent(client.getUserAgent())
    .setMetric(new definition.Metric().setOn(false));
  const clientType = client.getClientType();
  if (clientType !== undefined) reply.setClientType(clientType);
  const publishing = client.getPublishing();
  const subscription = client.getSubscription();
  if (publishing) {
    reply
      .setBackoffPolicy(retryPolicy(3, 10, 1000))
      .setPublishing(
        new definition.Publishing()
          .setTopicsList(publishing.getTopicsList())
          .setMaxBodySize(policy.maxBodySize)
          .setValidateMessageType(policy.validateMessageType),
      );
  } else if (subscription) {
    const push = clientType === definition.ClientType.PUSH_CONSUMER;
    reply.setBackoffPolicy(retryPolicy(MAX_DELIVERY_ATTEMPTS, 1000, 60_000)).setSubscription(
      new definition.Subscription()
        .setGroup(subscription.getGroup())
        .setSubscriptionsList(subscription.getSubscriptionsList())
        .setFifo(false)
        // PushConsumer takes these literally; an unset batch size would make it receive 0 messages.
        .setReceiveBatchSize(PUSH_RECEIVE_BATCH_SIZE)
        .setLongPollingTimeout(
          push
            ? durationOf(PUSH_LONG_POLLING_MS)
            : (subscription.getLongPollingTimeout() ?? durationOf(20_000)),
        ),
    );
  }
  return reply;
}

/** Open Telemetry streams, the settings each client is sent on them, and the timers that send them. */
export class TelemetrySessions {
  readonly #policy: SettingsPolicy;
  readonly #silenced: () => boolean;
  readonly #routeQueries = new Map<string, RouteQueries>();
  readonly #sessions = new Set<Session>();

  /** `silenced` is consulted per command: while it returns true nothing is answered (blackhole). */
  constructor(policy: SettingsPolicy, silenced: () => boolean) {
    this.#policy = policy;
    this.#silenced = silenced;
  }

  /** Open streams; each is forgotten, timers included, as soon as its call ends. */
  get size(): number {
    return this.#sessions.size;
  }

  routeQueryStarted(clientId: string): void {
    const queries = this.#routeQueries.get(clientId) ?? { open: 0, lastAnsweredAt: 0 };
    queries.open++;
    // Re-inserting keeps the map ordered by recency, so the oldest entry is the one to drop.
    this.#routeQueries.delete(clientId);
    this.#routeQueries.set(clientId, queries);
    if (this.#routeQueries.size > MAX_TRACKED_CLIENTS) {
      const oldest = this.#routeQueries.keys().next().value;
      if (oldest !== undefined) this.#routeQueries.delete(oldest);
    }
  }

  routeQueryAnswered(clientId: string): void {
    const queries = this.#routeQueries.get(clientId);
    if (!queries) return;
    queries.open = Math.max(0, queries.open - 1);
    queries.lastAnsweredAt = Date.now();
  }

  forget(clientId: string): void {
    this.#routeQueries.delete(clientId);
  }

  /** Serves one Telemetry stream; with `authError` every command is answered with 40100 and nothing else. */
  open(call: TelemetryCall, clientId: string, authError: string | undefined): void {
    const session: Session = { call, clientId, timers: new Set() };
    this.#sessions.add(session);
    const close = () => this.#close(session);
    call.on('data', (command: TelemetryCommand) => {
      if (this.#silenced()) return;
      if (authError !== undefined) {
        this.#write(
          session,
          new service.TelemetryCommand().setStatus(statusOf(Code.UNAUTHORIZED, authError)),
        );
      } else if (command.hasSettings()) {
        const settings = command.getSettings();
        if (settings) this.#scheduleReply(session, settingsReply(settings, this.#policy));
      }
    });
    call.on('end', () => {
      // The client half-closed; finishing our side completes the call without an error on its end.
      if (!this.#sessions.has(session)) return;
      close();
      call.end();
    });
    call.on('error', close);
    call.on('cancelled', close);
    call.on('close', close);
  }

  closeAll(): void {
    for (const session of [...this.#sessions]) {
      this.#close(session);
      session.call.end();
    }
    this.#routeQueries.clear();
  }

  #close(session: Session): void {
    for (const timer of session.timers) clearTimeout(timer);
    session.timers.clear();
    this.#sessions.delete(session);
  }

  #scheduleReply(session: Session, settings: Settings): void {
    for (const timer of session.timers) clearTimeout(timer);
    session.timers.clear();
    const command = () => new service.TelemetryCommand().setStatus(statusOf(Code.OK)).setSettings(settings);
    const replyWhenQuiet = () => {
      const queries = this.#routeQueries.get(session.clientId);
      const quietFor = Date.now() - (queries?.lastAnsweredAt ?? 0);
      if (queries && (queries.open > 0 || quietFor < ROUTE_QUIET_MS)) {
        this.#later(session, replyWhenQuiet, queries.open > 0 ? ROUTE_QUIET_MS : ROUTE_QUIET_MS - quietFor);
        return;
      }
      this.#write(session, command());
      this.#later(session, () => this.#write(session, command()), RESEND_AFTER_MS);
    };
    this.#later(session, replyWhenQuiet, ROUTE_QUIET_MS);
  }

  #later(session: Session, action: () => void, delayMs: number): void {
    const timer = setTimeout(() => {
      session.timers.delete(timer);
      action();
    }, delayMs);
    timer.unref();
    session.timers.add(timer);
  }

  #write(session: Session, command: TelemetryCommand): void {
    if (!this.#sessions.has(session) || session.call.cancelled || this.#silenced()) return;
    session.call.write(command);
  }
}
