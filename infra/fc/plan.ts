import { join } from 'node:path';
import {
  type DeployConfig,
  functionEnvironment,
  type RocketMQTriggerConfig,
  type TriggerConfig,
  triggersOf,
} from './config.js';

/**
 * The deployment as FC 2.0 API calls (API 2016-08-15, the one `@alicloud/fc2` speaks): for each resource,
 * the GET that finds out whether it exists, the POST that creates it and the PUT that updates it. Pure:
 * the dry run prints it, `apply.ts` executes it, and the stub test checks that every call made was planned.
 */

export const API_VERSION = '2016-08-15';
export const RUNTIME = 'nodejs20';
// The bundle's file is index.js and it exports these three (see infra/build/targets.ts).
export const HANDLER = 'index.handler';
export const INITIALIZER = 'index.initializer';
export const PRE_STOP = 'index.preStop';

export type Body = Record<string, unknown>;

export interface ApiCall {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Including the `/2016-08-15` prefix, as signed. */
  path: string;
  body?: Body;
}

interface StepBase {
  /** `service`, `service/function` or `service/function/trigger`. */
  id: string;
  serviceName: string;
  read: ApiCall;
  create: ApiCall & { body: Body };
  update: ApiCall & { body: Body };
}
export interface ServiceStep extends StepBase {
  kind: 'service';
}
export interface FunctionStep extends StepBase {
  kind: 'function';
  functionName: string;
  /** The zip whose base64 goes into `code.zipFile` of both bodies when the call is made. */
  codeFile: string;
}
export interface TriggerStep extends StepBase {
  kind: 'trigger';
  functionName: string;
  triggerName: string;
  /** As FC names it: a RocketMQ trigger is an `eventbridge` trigger. */
  triggerType: string;
  /** Used when an update is impossible (type or source changed, or FC refuses to update it). */
  remove: ApiCall;
}
export type PlanStep = ServiceStep | FunctionStep | TriggerStep;

export interface PlanTarget {
  accountId: string;
  region: string;
  /** Folder holding `<function>.zip` (dist/fc). */
  codeDir: string;
}

function call(method: ApiCall['method'], path: string, body?: Body): ApiCall {
  return body ? { method, path: `/${API_VERSION}${path}`, body } : { method, path: `/${API_VERSION}${path}` };
}

export function servicePath(service: string): string {
  return `/services/${service}`;
}
export function functionPath(service: string, fn: string): string {
  return `/services/${service}/functions/${fn}`;
}
export function triggerPath(service: string, fn: string, trigger: string): string {
  return `/services/${service}/functions/${fn}/triggers/${trigger}`;
}

/** FC's name for a trigger type: RocketMQ triggers are EventBridge triggers with a RocketMQ source. */
export function fcTriggerType(trigger: TriggerConfig): string {
  return trigger.type === 'rocketmq' ? 'eventbridge' : trigger.type;
}

/**
 * The `triggerConfig` of a RocketMQ trigger, in the shape devsapp/fc3 documents for EventBridge triggers
 * (docs/zh/yaml/triggers.md): an event-streaming event source of type RocketMQ, the batch window, the
 * retry strategy and the event schema. A batch that fails every retry goes to `deadLetterArn` when one
 * is set (`errorsTolerance: ALL`); without one the stream stops rather than drop it (`NONE`: the task
 * goes back to "ready", per EventBridge's "retry and dead-letter" page), so nothing is lost while the
 * function cannot forward its failures (the broker is down, say).
 */
export function rocketmqTriggerConfig(trigger: RocketMQTriggerConfig, region: string): Body {
  return {
    triggerEnable: true,
    asyncInvocationType: false,
    eventRuleFilterPattern: '{}',
    eventSourceConfig: {
      eventSourceType: 'RocketMQ',
      eventSourceParameters: {
        sourceRocketMQParameters: {
          RegionId: region,
          InstanceId: trigger.instanceId,
          Topic: trigger.topic,
          Tag: trigger.tag,
          GroupID: trigger.groupId,
          Offset: 'CONSUME_FROM_LAST_OFFSET',
        },
      },
    },
    eventSinkConfig: { deliveryOption: { mode: 'event-streaming', eventSchema: trigger.eventSchema } },
    runOptions: {
      mode: 'event-streaming',
      batchWindow: { CountBasedWindow: trigger.batchSize, TimeBasedWindow: trigger.batchWindowSeconds },
      retryStrategy: { PushRetryStrategy: trigger.retryStrategy },
      ...(trigger.deadLetterArn
        ? { errorsTolerance: 'ALL', deadLetterQueue: { Arn: trigger.deadLetterArn } }
        : { errorsTolerance: 'NONE' }),
    },
  };
}

/** The trigger fields FC 2.0 takes, by type (shapes from the FC API reference and the SDK's tests). */
export function triggerBody(trigger: TriggerConfig, target: PlanTarget): Body {
  switch (trigger.type) {
    case 'http':
      return { triggerConfig: { authType: trigger.authType, methods: trigger.methods } };
    case 'oss':
      return {
        sourceArn: `acs:oss:${target.region}:${target.accountId}:${trigger.bucket}`,
        invocationRole: `acs:ram::${target.accountId}:role/aliyunosseventnotificationrole`,
        triggerConfig: {
          events: trigger.events,
          filter: { key: { prefix: trigger.prefix, suffix: trigger.suffix } },
        },
      };
    case 'timer':
      return {
        triggerConfig: {
          cronExpression: trigger.cronExpression,
          enable: trigger.enable,
          payload: trigger.payload,
        },
      };
    case 'rocketmq':
      return { triggerConfig: rocketmqTriggerConfig(trigger, target.region) };
  }
}

/** Service → every function → every trigger: a trigger needs its function, a function its service. */
export function buildPlan(config: DeployConfig, target: PlanTarget): PlanStep[] {
  const svc = config.service.name;
  const serviceBody: Body = {
    description: config.service.description,
    internetAccess: config.service.internetAccess,
    ...(config.service.role && { role: config.service.role }),
  };
  const steps: PlanStep[] = [
    {
      kind: 'service',
      id: svc,
      serviceName: svc,
      read: call('GET', servicePath(svc)),
      create: call('POST', '/services', { serviceName: svc, ...serviceBody }) as ServiceStep['create'],
      update: call('PUT', servicePath(svc), serviceBody) as ServiceStep['update'],
    },
  ];
  const names = Object.keys(config.functions);
  for (const name of names) {
    const fn = config.functions[name];
    if (!fn) continue;
    const body: Body = {
      description: fn.description,
      runtime: RUNTIME,
      handler: HANDLER,
      initializer: INITIALIZER,
      initializationTimeout: fn.initializationTimeout,
      memorySize: fn.memorySize,
      timeout: fn.timeout,
      environmentVariables: functionEnvironment(config, name),
      instanceLifecycleConfig: { preStop: { handler: PRE_STOP, timeout: fn.preStopTimeout } },
    };
    steps.push({
      kind: 'function',
      id: `${svc}/${name}`,
      serviceName: svc,
      functionName: name,
      codeFile: join(target.codeDir, `${name}.zip`),
      read: call('GET', functionPath(svc, name)),
      create: call('POST', `${servicePath(svc)}/functions`, {
        functionName: name,
        ...body,
      }) as FunctionStep['create'],
      update: call('PUT', functionPath(svc, name), body) as FunctionStep['update'],
    });
  }
  for (const name of names) {
    const fn = config.functions[name];
    for (const trigger of fn ? triggersOf(fn) : []) steps.push(triggerStep(svc, name, trigger, target));
  }
  return steps;
}

function triggerStep(svc: string, name: string, trigger: TriggerConfig, target: PlanTarget): TriggerStep {
  const body = triggerBody(trigger, target);
  const { sourceArn: _sourceArn, ...updatable } = body;
  return {
    kind: 'trigger',
    id: `${svc}/${name}/${trigger.name}`,
    serviceName: svc,
    functionName: name,
    triggerName: trigger.name,
    triggerType: fcTriggerType(trigger),
    read: call('GET', triggerPath(svc, name, trigger.name)),
    create: call('POST', `${functionPath(svc, name)}/triggers`, {
      triggerName: trigger.name,
      triggerType: fcTriggerType(trigger),
      ...body,
    }) as TriggerStep['create'],
    update: call('PUT', triggerPath(svc, name, trigger.name), updatable) as TriggerStep['update'],
    remove: call('DELETE', triggerPath(svc, name, trigger.name)),
  };
}
