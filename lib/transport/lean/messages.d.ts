/** Types of the generated `messages.js` (infra/build/lean-proto.ts), as far as the lean transport uses it. */

interface Writer {
  finish(): Uint8Array;
}

interface MessageType<T> {
  encode(message: T): Writer;
  decode(bytes: Uint8Array): T;
}

type EnumValues = Readonly<Record<string, number>>;

export declare const apache: {
  rocketmq: {
    v2: {
      SendMessageRequest: MessageType<object>;
      SendMessageResponse: MessageType<object>;
      QueryRouteRequest: MessageType<object>;
      QueryRouteResponse: MessageType<object>;
      Code: EnumValues;
      Permission: EnumValues;
      MessageType: EnumValues;
      AddressScheme: EnumValues;
      Encoding: EnumValues;
    };
  };
};
