import type {
  Metadata,
  ServerDuplexStream,
  ServerUnaryCall,
  ServerWritableStream,
  StatusObject,
  sendUnaryData,
  UntypedServiceImplementation,
} from '@grpc/grpc-js';
import type {
  Endpoints,
  Resource,
  Status,
} from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/definition_pb.js';
import type {
  AckMessageRequest,
  ChangeInvisibleDurationRequest,
  EndTransactionRequest,
  ForwardMessageToDeadLetterQueueRequest,
  HeartbeatRequest,
  NotifyClientTerminationRequest,
  QueryAssignmentRequest,
  QueryRouteRequest,
  RecallMessageRequest,
  ReceiveMessageRequest,
  ReceiveMessageResponse,
  SendMessageRequest,
  TelemetryCommand,
} from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/service_pb.js';
import { authorizationError } from './auth.js';
import type { FaultInjector } from './faults.js';
import { Code, definition, type StatusCode, service, statusOf } from './proto.js';
import {
  ackMessage,
  changeInvisibleDuration,
  forwardToDeadLetterQueue,
  type ReceiveContext,
  receiveMessage,
} from './receive.js';
import {
  acceptedTypes,
  endTransaction,
  recallMessage,
  type SendContext,
  sendMessage,
  topicNotFound,
} from './send.js';
import type { TelemetrySessions } from './settings.js';
import type { TopicMessageType } from './topics.js';

const BROKER_NAME = 'local-broker';

export interface BrokerCounters {
  sendMessageCalls: number;
  rejectedSends: number;
  readonly rpcCalls: Map<string, number>;
}

export interface ServiceContext extends SendContext, ReceiveContext {
  readonly queuesPerTopic: number;
  readonly credentials: ReadonlyMap<string, string> | undefined;
  readonly faults: FaultInjector;
  readonly telemetry: TelemetrySessions;
  readonly counters: BrokerCounters;
  /** Timers of responses held back by `faults.delayMs`, cleared on stop. */
  readonly delayedResponses: Set<NodeJS.Timeout>;
  readonly address: () => { host: string; port: number };
}

interface StatusResponse {
  setStatus(value?: Status): unknown;
  getStatus(): Status | undefined;
}

function clientIdOf(call: { metadata: Metadata; getPeer(): string }): string {
  const value = call.metadata.get('x-mq-client-id')[0];
  return typeof value === 'string' ? value : call.getPeer();
}

function authorize(context: ServiceContext, metadata: Metadata): string | undefined {
  return context.credentials ? authorizationError(metadata, context.credentials) : undefined;
}

function count(context: ServiceContext, rpc: string): void {
  context.counters.rpcCalls.set(rpc, (context.counters.rpcCalls.get(rpc) ?? 0) + 1);
}

function respondLater(context: ServiceContext, respond: () => void): void {
  if (context.faults.delayMs <= 0) {
    respond();
    return;
  }
  const timer = setTimeout(() => {
    context.delayedResponses.delete(timer);
    respond();
  }, context.faults.delayMs);
  timer.unref();
  context.delayedResponses.add(timer);
}

/** Common path of every unary RPC: counting, faults, authorization, then the handler. */
function unary<Request, Response extends StatusResponse>(
  context: ServiceContext,
  rpc: string,
  Response: new () => Response,
  handle: (request: Request, call: ServerUnaryCall<Request, Response>) => Response,
) {
  return (call: ServerUnaryCall<Request, Response>, callback: sendUnaryData<Response>) => {
    count(context, rpc);
    if (context.faults.silences(call.getPeer())) return;
    const isSend = rpc === 'SendMessage';
    const authError = authorize(context, call.metadata);
    const fault = isSend && authError === undefined ? context.faults.takeSendFault() : undefined;
    // The settings reply waits until this client's route queries are answered (see settings.ts).
    const routeQueryOf = rpc === 'QueryRoute' ? clientIdOf(call) : undefined;
    if (routeQueryOf !== undefined) context.telemetry.routeQueryStarted(routeQueryOf);
    let failure: Partial<StatusObject> | undefined;
    let response = new Response();
    if (fault?.kind === 'grpc') {
      failure = { code: fault.code, details: 'injected failure' };
    } else if (authError !== undefined) {
      response.setStatus(statusOf(Code.UNAUTHORIZED, authError));
    } else if (fault) {
      response.setStatus(statusOf(fault.code as StatusCode, fault.message));
    } else {
      try {
        response = handle(call.request, call);
      } catch (error) {
        response.setStatus(statusOf(Code.INTERNAL_SERVER_ERROR, `local broker bug: ${String(error)}`));
      }
    }
    if (isSend) {
      context.counters.sendMessageCalls++;
      if (failure || response.getStatus()?.getCode() !== Code.OK) context.counters.rejectedSends++;
    }
    respondLater(context, () => {
      if (routeQueryOf !== undefined) context.telemetry.routeQueryAnswered(routeQueryOf);
      if (failure) callback(failure);
      else callback(null, response);
    });
  };
}

/**
 * The route points back at this server under the address the client dialled (as the proxy does in
 * local mode), reduced to one address because the client joins several into a single gRPC target.
 */
function routeEndpoints(context: ServiceContext, requested: Endpoints | undefined): Endpoints {
  const own = context.address();
  const addresses = requested?.getAddressesList() ?? [];
  const address = addresses.find((candidate) => candidate.getPort() === own.port) ?? addresses[0];
  if (requested && address) {
    return new definition.Endpoints().setScheme(requested.getScheme()).setAddressesList([address]);
  }
  const host = own.host === '0.0.0.0' || own.host === '::' ? '127.0.0.1' : own.host;
  return new definition.Endpoints()
    .setScheme(definition.AddressScheme.IPV4)
    .setAddressesList([new definition.Address().setHost(host).setPort(own.port)]);
}

function messageQueue(
  context: ServiceContext,
  topic: Resource | undefined,
  queueId: number,
  endpoints: Endpoints | undefined,
  topicType: TopicMessageType,
) {
  return new definition.MessageQueue()
    .setTopic(topic)
    .setId(queueId)
    .setPermission(definition.Permission.READ_WRITE)
    .setBroker(
      new definition.Broker().setName(BROKER_NAME).setId(0).setEndpoints(routeEndpoints(context, endpoints)),
    )
    .setAcceptMessageTypesList(acceptedTypes(topicType).map((type) => definition.MessageType[type]));
}

export function createMessagingService(context: ServiceContext): UntypedServiceImplementation {
  const topicTypeOf = (request: { getTopic(): Resource | undefined }) =>
    context.topics.get(request.getTopic()?.getName() ?? '');

  return {
    queryRoute: unary(context, 'QueryRoute', service.QueryRouteResponse, (request: QueryRouteRequest) => {
      const response = new service.QueryRouteResponse();
      const topicType = topicTypeOf(request);
      if (!topicType) return response.setStatus(topicNotFound(request.getTopic()?.getName() ?? ''));
      // Every queue of the topic, as the proxy lists them. The client picks only queue id 0 (it filters on
      // the master broker id), which just names the endpoint: the broker picks the queue for each send.
      const queues = Array.from({ length: context.queuesPerTopic }, (_, queueId) =>
        messageQueue(context, request.getTopic(), queueId, request.getEndpoints(), topicType),
      );
      return response.setStatus(statusOf(Code.OK)).setMessageQueuesList(queues);
    }),
    heartbeat: unary(context, 'Heartbeat', service.HeartbeatResponse, (_request: HeartbeatRequest) =>
      new service.HeartbeatResponse().setStatus(statusOf(Code.OK)),
    ),
    sendMessage: unary(context, 'SendMessage', service.SendMessageResponse, (request: SendMessageRequest) =>
      sendMessage(context, request),
    ),
    endTransaction: unary(
      context,
      'EndTransaction',
      service.EndTransactionResponse,
      (request: EndTransactionRequest) => endTransaction(context, request),
    ),
    recallMessage: unary(
      context,
      'RecallMessage',
      service.RecallMessageResponse,
      (request: RecallMessageRequest) => recallMessage(context, request),
    ),
    queryAssignment: unary(
      context,
      'QueryAssignment',
      service.QueryAssignmentResponse,
      (request: QueryAssignmentRequest) => {
        const response = new service.QueryAssignmentResponse();
        const topicType = topicTypeOf(request);
        if (!topicType) return response.setStatus(topicNotFound(request.getTopic()?.getName() ?? ''));
        // Queue id -1 is how the proxy assigns "the whole topic" to a pop-mode push consumer.
        const queue = messageQueue(context, request.getTopic(), -1, request.getEndpoints(), topicType);
        return response
          .setStatus(statusOf(Code.OK))
          .setAssignmentsList([new definition.Assignment().setMessageQueue(queue)]);
      },
    ),
    ackMessage: unary(context, 'AckMessage', service.AckMessageResponse, (request: AckMessageRequest) =>
      ackMessage(context, request),
    ),
    changeInvisibleDuration: unary(
      context,
      'ChangeInvisibleDuration',
      service.ChangeInvisibleDurationResponse,
      (request: ChangeInvisibleDurationRequest) => changeInvisibleDuration(context, request),
    ),
    forwardMessageToDeadLetterQueue: unary(
      context,
      'ForwardMessageToDeadLetterQueue',
      service.ForwardMessageToDeadLetterQueueResponse,
      (request: ForwardMessageToDeadLetterQueueRequest) => forwardToDeadLetterQueue(context, request),
    ),
    notifyClientTermination: unary(
      context,
      'NotifyClientTermination',
      service.NotifyClientTerminationResponse,
      (_request: NotifyClientTerminationRequest, call) => {
        context.telemetry.forget(clientIdOf(call));
        return new service.NotifyClientTerminationResponse().setStatus(statusOf(Code.OK));
      },
    ),
    receiveMessage: (call: ServerWritableStream<ReceiveMessageRequest, ReceiveMessageResponse>) => {
      count(context, 'ReceiveMessage');
      if (context.faults.silences(call.getPeer())) return;
      const authError = authorize(context, call.metadata);
      if (authError === undefined) return receiveMessage(context, call);
      call.write(new service.ReceiveMessageResponse().setStatus(statusOf(Code.UNAUTHORIZED, authError)));
      call.end();
    },
    telemetry: (call: ServerDuplexStream<TelemetryCommand, TelemetryCommand>) => {
      count(context, 'Telemetry');
      context.telemetry.open(call, clientIdOf(call), authorize(context, call.metadata));
    },
  };
}
