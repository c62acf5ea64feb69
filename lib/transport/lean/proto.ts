import protobuf from 'protobufjs/light.js';
import descriptor from './descriptor.json' with { type: 'json' };

/**
 * The protobuf types of SendMessage and QueryRoute, from a descriptor generated out of the `.proto`
 * files the official client ships (`infra/build/lean-proto.ts`). protobufjs builds an encoder and a
 * decoder per type from it; field names are camelCase.
 */

const root = protobuf.Root.fromJSON(descriptor as protobuf.INamespace);
const lookup = (name: string) => root.lookupType(`apache.rocketmq.v2.${name}`);

export const SendMessageRequestType = lookup('SendMessageRequest');
export const SendMessageResponseType = lookup('SendMessageResponse');
export const QueryRouteRequestType = lookup('QueryRouteRequest');
export const QueryRouteResponseType = lookup('QueryRouteResponse');

/** The numeric value of an enum member, read from the descriptor so it cannot drift from the `.proto`. */
function enumValue(enumName: string, member: string): number {
  const value = root.lookupEnum(`apache.rocketmq.v2.${enumName}`).values[member];
  if (value === undefined) throw new Error(`descriptor has no ${enumName}.${member}`);
  return value;
}

/** Status codes (`apache.rocketmq.v2.Code`) the transport acts on. */
export const Code = {
  OK: enumValue('Code', 'OK'),
  MULTIPLE_RESULTS: enumValue('Code', 'MULTIPLE_RESULTS'),
  MESSAGE_NOT_FOUND: enumValue('Code', 'MESSAGE_NOT_FOUND'),
};
export const Permission = {
  WRITE: enumValue('Permission', 'WRITE'),
  READ_WRITE: enumValue('Permission', 'READ_WRITE'),
};
export const MessageType = {
  NORMAL: enumValue('MessageType', 'NORMAL'),
  FIFO: enumValue('MessageType', 'FIFO'),
  DELAY: enumValue('MessageType', 'DELAY'),
};
export const AddressScheme = {
  IPV4: enumValue('AddressScheme', 'IPv4'),
  IPV6: enumValue('AddressScheme', 'IPv6'),
  DOMAIN_NAME: enumValue('AddressScheme', 'DOMAIN_NAME'),
};
export const Encoding = { IDENTITY: enumValue('Encoding', 'IDENTITY') };

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
