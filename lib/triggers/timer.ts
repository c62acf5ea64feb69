import type { ScheduledEvent } from 'aws-lambda';
import {
  type EventObject,
  invalidField,
  isEventObject,
  requireArray,
  requireString,
  requireTimestamp,
} from './fields.js';
import { decodeEvent, type EventInput, parseJson } from './json.js';

/** FC timer triggers and EventBridge schedules mapped to one {@link Tick}. */

export interface Tick {
  source: 'fc-timer' | 'eventbridge';
  /** The FC trigger name, or the EventBridge rule / Scheduler schedule name. */
  name: string;
  /** When the schedule fired; ISO 8601, UTC. */
  time: string;
  /** The configured payload; `undefined` when none was configured. */
  payload: unknown;
}

/** The FC timer trigger event (a Buffer of JSON when it reaches the handler). */
export interface FcTimerEvent {
  triggerTime: string;
  triggerName: string;
  /** The "trigger message" text of the trigger configuration. */
  payload?: string;
}

function mapFcTimer(event: EventObject): Tick {
  const kind = 'FC timer event';
  return {
    source: 'fc-timer',
    name: requireString(event.triggerName, kind, 'triggerName'),
    time: requireTimestamp(event.triggerTime, kind, 'triggerTime'),
    payload: readFcPayload(event.payload, kind),
  };
}

/**
 * FC's trigger message is free text. JSON text (`{"metrics":["orders.count"]}`) is parsed, since that is
 * how structured settings are written there; any other text is kept as the string it is.
 */
function readFcPayload(value: unknown, kind: string): unknown {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw invalidField(kind, 'payload', 'must be a string');
  if (value.trim() === '') return undefined;
  try {
    return parseJson(value);
  } catch {
    return value;
  }
}

// Rules: arn:aws:events:<region>:<account>:rule/[<bus>/]<name>;
// EventBridge Scheduler: arn:aws:scheduler:<region>:<account>:schedule/<group>/<name>.
const SCHEDULE_ARN =
  /^arn:aws[a-z-]*:(?:events|scheduler):[^:]*:[^:]*:(?:rule|schedule)\/(?:[^/]+\/)*([^/]+)$/;
const SCHEDULE_SOURCES: ReadonlySet<unknown> = new Set(['aws.events', 'aws.scheduler']);

function mapScheduled(event: EventObject): Tick {
  const kind = 'EventBridge scheduled event';
  if (event['detail-type'] !== 'Scheduled Event') {
    throw invalidField(kind, 'detail-type', 'must be "Scheduled Event"');
  }
  if (!SCHEDULE_SOURCES.has(event.source)) {
    throw invalidField(kind, 'source', 'must be "aws.events" or "aws.scheduler"');
  }
  const resources = requireArray(event.resources, kind, 'resources');
  const arn = requireString(resources[0], kind, 'resources[0]');
  const name = SCHEDULE_ARN.exec(arn)?.[1];
  if (name === undefined) throw invalidField(kind, 'resources[0]', 'must be the ARN of a rule or schedule');
  // Rules send `detail: {}`; that, like FC's empty trigger message, means "no payload".
  const { detail } = event;
  const empty =
    detail === undefined || detail === null || (isEventObject(detail) && Object.keys(detail).length === 0);
  return {
    source: 'eventbridge',
    name,
    time: requireTimestamp(event.time, kind, 'time'),
    payload: empty ? undefined : detail,
  };
}

/** Maps an FC timer trigger event (Buffer, string or object). */
export function fromFcTimerEvent(event: EventInput<FcTimerEvent>): Tick {
  return mapFcTimer(decodeEvent(event, 'FC timer event'));
}

/**
 * Maps an EventBridge scheduled event (a rule's schedule, or EventBridge Scheduler). A rule target with a
 * constant `Input` delivers that input instead of a scheduled event; it is not a {@link Tick}.
 */
export function fromScheduledEvent(event: EventInput<ScheduledEvent>): Tick {
  return mapScheduled(decodeEvent(event, 'EventBridge scheduled event'));
}

/** Maps an FC timer event (`triggerTime`) or an EventBridge scheduled event (`detail-type`). */
export function fromTimerEvent(event: EventInput<FcTimerEvent | ScheduledEvent>): Tick {
  const decoded = decodeEvent(event, 'timer event');
  if (decoded.triggerTime !== undefined) return mapFcTimer(decoded);
  if (decoded['detail-type'] !== undefined) return mapScheduled(decoded);
  throw invalidField(
    'timer event',
    'triggerTime',
    'is missing: expected an FC timer event (triggerTime) or an EventBridge scheduled event (detail-type)',
  );
}
