import { apache } from './messages.js';

/**
 * The protobuf types of SendMessage and QueryRoute: static encoders and decoders that protobufjs's
 * generator wrote from the `.proto` files the official client ships (infra/build/lean-proto.ts). They
 * take and return plain objects with camelCase field names.
 */

const v2 = apache.rocketmq.v2;

export const SendMessageRequestType = v2.SendMessageRequest;
export const SendMessageResponseType = v2.SendMessageResponse;
export const QueryRouteRequestType = v2.QueryRouteRequest;
export const QueryRouteResponseType = v2.QueryRouteResponse;

/** The numeric value of an enum member, from the generated code so it cannot drift from the `.proto`. */
function enumValue(values: Readonly<Record<string, number>>, member: string): number {
  const value = values[member];
  if (value === undefined) throw new Error(`generated protobuf code has no enum member ${member}`);
  return value;
}

/** Status codes (`apache.rocketmq.v2.Code`) the transport acts on. */
export const Code = {
  OK: enumValue(v2.Code, 'OK'),
  MULTIPLE_RESULTS: enumValue(v2.Code, 'MULTIPLE_RESULTS'),
  MESSAGE_NOT_FOUND: enumValue(v2.Code, 'MESSAGE_NOT_FOUND'),
};
export const Permission = {
  WRITE: enumValue(v2.Permission, 'WRITE'),
  READ_WRITE: enumValue(v2.Permission, 'READ_WRITE'),
};
export const MessageType = {
  NORMAL: enumValue(v2.MessageType, 'NORMAL'),
  FIFO: enumValue(v2.MessageType, 'FIFO'),
  DELAY: enumValue(v2.MessageType, 'DELAY'),
};
export const AddressScheme = {
  IPV4: enumValue(v2.AddressScheme, 'IPv4'),
  IPV6: enumValue(v2.AddressScheme, 'IPv6'),
  DOMAIN_NAME: enumValue(v2.AddressScheme, 'DOMAIN_NAME'),
};
export const Encoding = { IDENTITY: enumValue(v2.Encoding, 'IDENTITY') };

/** An int64 as protobufjs decodes it: a number, or a Long when the `long` package is loaded. */
export type Int64 = number | { toNumber(): number };
export const int64ToNumber = (value: Int64 | null | undefined): number =>
  value == null ? 0 : typeof value === 'number' ? value : value.toNumber();

export interface StatusObject {
  code?: number;
  message?: string;
}

export interface AddressObject {
  host?: string;
  port?: number;
}

export interface EndpointsObject {
  scheme?: number;
  addresses?: AddressObject[];
}

export interface MessageQueueObject {
  topic?: { name?: string; resourceNamespace?: string };
  id?: number;
  permission?: number;
  broker?: { name?: string; id?: number; endpoints?: EndpointsObject };
  acceptMessageTypes?: number[];
}

export interface QueryRouteResponseObject {
  status?: StatusObject;
  messageQueues?: MessageQueueObject[];
}

export interface SendResultEntryObject {
  status?: StatusObject;
  messageId?: string;
  transactionId?: string;
  offset?: Int64;
  recallHandle?: string;
}

export interface SendMessageResponseObject {
  status?: StatusObject;
  entries?: SendResultEntryObject[];
}
