/** The parts of `@alicloud/fc2` 2.6 (CommonJS, ships no types) that the FC deploy uses. */
declare module '@alicloud/fc2' {
  export interface FcClientConfig {
    accessKeyID: string;
    accessKeySecret: string;
    /** Sent only when `accessKeyID` starts with `STS`. */
    securityToken?: string;
    region: string;
    /** A full base URL; replaces protocol, host and port. */
    endpoint?: string;
    /** https instead of the SDK's default http. */
    secure?: boolean;
    /** Milliseconds. @default 60000 */
    timeout?: number;
    headers?: Record<string, string>;
  }

  export interface FcResponse<T = Record<string, unknown>> {
    headers: Record<string, string | string[] | undefined>;
    data: T;
  }

  type Options = Record<string, unknown>;

  export default class FC {
    constructor(accountId: string, config: FcClientConfig);
    getService(serviceName: string): Promise<FcResponse>;
    createService(serviceName: string, options: Options): Promise<FcResponse>;
    updateService(serviceName: string, options: Options): Promise<FcResponse>;
    getFunction(serviceName: string, functionName: string): Promise<FcResponse>;
    createFunction(serviceName: string, options: Options): Promise<FcResponse>;
    updateFunction(serviceName: string, functionName: string, options: Options): Promise<FcResponse>;
    getTrigger(serviceName: string, functionName: string, triggerName: string): Promise<FcResponse>;
    createTrigger(serviceName: string, functionName: string, options: Options): Promise<FcResponse>;
    updateTrigger(
      serviceName: string,
      functionName: string,
      triggerName: string,
      options: Options,
    ): Promise<FcResponse>;
    deleteTrigger(serviceName: string, functionName: string, triggerName: string): Promise<FcResponse>;
  }
}
