export {
  type Fc2HttpRequest,
  type FcHttpEvent,
  fromApiGatewayV1Event,
  fromApiGatewayV2Event,
  fromFc2HttpRequest,
  fromFcHttpEvent,
  fromHttpEvent,
  type HttpPlatform,
  type HttpRequest,
  type HttpRequestOptions,
} from './http.js';
export { type BodyLimitOptions, HTTP_BODY_DEFAULTS, readJsonBody } from './http-body.js';
export { MethodNotAllowedError, requireMethod } from './http-method.js';
export {
  errorResponse,
  type FcHttpResponse,
  type HttpResponse,
  jsonResponse,
  toApiGatewayV1Response,
  toApiGatewayV2Response,
  toFcHttpResponse,
} from './http-response.js';
export type { EventInput } from './json.js';
export {
  fromObjectEvent,
  fromOssEvent,
  fromS3Event,
  OBJECT_EVENT_DEFAULTS,
  type ObjectEvent,
  type ObjectEventOptions,
  type OssEvent,
} from './object-events.js';
export {
  fromRocketMQEvent,
  ROCKETMQ_EVENT_DEFAULTS,
  type RocketMQCloudEvent,
  type RocketMQEvent,
  type RocketMQEventData,
  type RocketMQEventOptions,
} from './rocketmq.js';
export {
  type FcTimerEvent,
  fromFcTimerEvent,
  fromScheduledEvent,
  fromTimerEvent,
  type Tick,
} from './timer.js';
export { parseTraceparent } from './traceparent.js';
