import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A STUB of the Function Compute 2.0 API (2016-08-15) on 127.0.0.1, for tests only: it checks the `FC`
 * signature of every request (written here from the documented scheme, not with the SDK's own code),
 * keeps services, functions and triggers in memory, answers errors the way FC does (`ErrorCode` /
 * `ErrorMessage`, 404 / 409 / 400 / 403) and records every call.
 */

export interface FcApiStubOptions {
  accountId: string;
  region: string;
  accessKeyId: string;
  accessKeySecret: string;
  /** Expected `x-fc-security-token`, for STS credentials. */
  securityToken?: string;
  /** Trigger types whose update is refused the way FC refuses some ("not supported yet"). */
  refuseTriggerUpdates?: string[];
}

export interface RecordedCall {
  method: string;
  /** With the `/2016-08-15` prefix, without the query. */
  path: string;
  body?: Record<string, unknown>;
  status: number;
}

type Resource = Record<string, unknown>;

export interface FcApiStub {
  readonly endpoint: string;
  readonly calls: RecordedCall[];
  readonly services: Map<string, Resource>;
  /** Keyed `service/function`. */
  readonly functions: Map<string, Resource>;
  /** Keyed `service/function/trigger`. */
  readonly triggers: Map<string, Resource>;
  /** Requests refused because the signature, MD5, account or token did not check out. */
  readonly rejected: string[];
  close(): Promise<void>;
}

const PREFIX = '/2016-08-15';

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function header(request: IncomingMessage, name: string): string {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(',') : (value ?? '');
}

/** The string FC signs: method, MD5, type, date, the x-fc-* headers sorted, then the path. */
function stringToSign(request: IncomingMessage, path: string): string {
  const fcHeaders = Object.keys(request.headers)
    .filter((name) => name.startsWith('x-fc-'))
    .sort()
    .map((name) => `${name}:${header(request, name)}\n`)
    .join('');
  return [
    request.method,
    header(request, 'content-md5'),
    header(request, 'content-type'),
    header(request, 'date'),
  ]
    .map((part) => `${part}\n`)
    .join('')
    .concat(fcHeaders, path);
}

function checkSignature(
  request: IncomingMessage,
  path: string,
  body: Buffer,
  options: FcApiStubOptions,
): string | undefined {
  const authorization = header(request, 'authorization');
  const prefix = `FC ${options.accessKeyId}:`;
  if (!authorization.startsWith(prefix)) return 'authorization is not "FC <our AccessKey id>:<signature>"';
  if (header(request, 'x-fc-account-id') !== options.accountId) return 'wrong x-fc-account-id';
  if (
    options.securityToken !== undefined &&
    header(request, 'x-fc-security-token') !== options.securityToken
  ) {
    return 'missing or wrong x-fc-security-token';
  }
  const date = Date.parse(header(request, 'date'));
  if (!Number.isFinite(date) || Math.abs(Date.now() - date) > 15 * 60_000)
    return 'date missing or off by > 15 min';
  if (body.length > 0) {
    // FC's quirk: base64 of the hex digest, not of the raw digest.
    const md5 = Buffer.from(createHash('md5').update(body).digest('hex')).toString('base64');
    if (header(request, 'content-md5') !== md5) return 'content-md5 does not match the body';
  }
  const expected = createHmac('sha256', options.accessKeySecret).update(stringToSign(request, path)).digest();
  const given = Buffer.from(authorization.slice(prefix.length), 'base64');
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    return 'signature does not match';
  return undefined;
}

function requireString(body: Resource, key: string): string {
  const value = body[key];
  if (typeof value !== 'string' || value === '')
    throw new ApiError(400, 'InvalidArgument', `${key} is required`);
  return value;
}

function checkCode(body: Resource): Resource | undefined {
  const code = body.code as { zipFile?: unknown } | undefined;
  if (code === undefined) return undefined;
  const zip = typeof code.zipFile === 'string' ? Buffer.from(code.zipFile, 'base64') : Buffer.alloc(0);
  if (zip.length < 22 || zip.readUInt32LE(0) !== 0x04034b50) {
    throw new ApiError(400, 'InvalidArgument', 'code.zipFile is not a base64 zip');
  }
  return { codeSize: zip.length, codeChecksum: createHash('sha256').update(zip).digest('hex') };
}

export async function startFcApiStub(options: FcApiStubOptions): Promise<FcApiStub> {
  const calls: RecordedCall[] = [];
  const rejected: string[] = [];
  const services = new Map<string, Resource>();
  const functions = new Map<string, Resource>();
  const triggers = new Map<string, Resource>();
  const now = () => new Date().toISOString();

  const triggersOf = (svc: string, fn: string) =>
    [...triggers].filter(([key]) => key.startsWith(`${svc}/${fn}/`)).map(([, trigger]) => trigger);

  function route(method: string, parts: string[], body: Resource): [number, Resource | undefined] {
    const [root, svc, functionsPart, fn, triggersPart, trig] = parts;
    if (root !== 'services') throw new ApiError(404, 'NotFound', 'unknown path');
    if (parts.length === 1 && method === 'POST') {
      const name = requireString(body, 'serviceName');
      if (services.has(name))
        throw new ApiError(409, 'ServiceAlreadyExists', `service ${name} already exists`);
      services.set(name, { ...body, createdTime: now(), lastModifiedTime: now() });
      return [200, services.get(name)];
    }
    if (!svc) throw new ApiError(404, 'NotFound', 'unknown path');
    const service = services.get(svc);
    if (!service) throw new ApiError(404, 'ServiceNotFound', `service ${svc} does not exist`);
    if (parts.length === 2) {
      if (method === 'GET') return [200, service];
      if (method === 'PUT') {
        Object.assign(service, body, { lastModifiedTime: now() });
        return [200, service];
      }
    }
    if (functionsPart !== 'functions') throw new ApiError(404, 'NotFound', 'unknown path');
    if (parts.length === 3 && method === 'POST') {
      const name = requireString(body, 'functionName');
      for (const key of ['runtime', 'handler']) requireString(body, key);
      const code = checkCode(body);
      if (!code) throw new ApiError(400, 'InvalidArgument', 'code is required');
      if (functions.has(`${svc}/${name}`))
        throw new ApiError(409, 'FunctionAlreadyExists', `function ${name} exists`);
      const { code: _code, ...stored } = body;
      functions.set(`${svc}/${name}`, { ...stored, ...code, createdTime: now(), lastModifiedTime: now() });
      return [200, functions.get(`${svc}/${name}`)];
    }
    const fnKey = `${svc}/${fn}`;
    const stored = functions.get(fnKey);
    if (!fn || !stored) throw new ApiError(404, 'FunctionNotFound', `function ${fn} does not exist`);
    if (parts.length === 4) {
      if (method === 'GET') return [200, { functionName: fn, ...stored }];
      if (method === 'PUT') {
        const code = checkCode(body);
        const { code: _code, ...changes } = body;
        Object.assign(stored, changes, code, { lastModifiedTime: now() });
        return [200, { functionName: fn, ...stored }];
      }
    }
    if (triggersPart !== 'triggers') throw new ApiError(404, 'NotFound', 'unknown path');
    if (parts.length === 5 && method === 'POST') {
      const name = requireString(body, 'triggerName');
      const type = requireString(body, 'triggerType');
      if (typeof body.triggerConfig !== 'object')
        throw new ApiError(400, 'InvalidArgument', 'triggerConfig is required');
      if (triggers.has(`${fnKey}/${name}`))
        throw new ApiError(409, 'TriggerAlreadyExists', `trigger ${name} exists`);
      // FC 2.0: a function with an HTTP trigger can have no other trigger.
      const others = triggersOf(svc, fn);
      if (others.length > 0 && (type === 'http' || others.some((other) => other.triggerType === 'http'))) {
        throw new ApiError(
          400,
          'InvalidArgument',
          'an HTTP trigger cannot share a function with other triggers',
        );
      }
      if (type === 'oss') {
        if (!/^acs:oss:[^:]+:\d+:[^:]+$/.test(String(body.sourceArn)))
          throw new ApiError(400, 'InvalidArgument', 'bad sourceArn');
        requireString(body, 'invocationRole');
      }
      const trigger: Resource = { ...body, createdTime: now(), lastModifiedTime: now() };
      if (type === 'http') {
        trigger.urlInternet = `https://${options.accountId}.${options.region}.fc.aliyuncs.com${PREFIX}/proxy/${svc}/${fn}/`;
      }
      triggers.set(`${fnKey}/${name}`, trigger);
      return [200, trigger];
    }
    const trigger = trig ? triggers.get(`${fnKey}/${trig}`) : undefined;
    if (!trig || !trigger) throw new ApiError(404, 'TriggerNotFound', `trigger ${trig} does not exist`);
    if (parts.length === 6) {
      if (method === 'GET') return [200, trigger];
      if (method === 'DELETE') {
        triggers.delete(`${fnKey}/${trig}`);
        return [204, undefined];
      }
      if (method === 'PUT') {
        if (options.refuseTriggerUpdates?.includes(String(trigger.triggerType))) {
          throw new ApiError(400, 'InvalidArgument', 'Updating trigger is not supported yet.');
        }
        Object.assign(trigger, body, { lastModifiedTime: now() });
        return [200, trigger];
      }
    }
    throw new ApiError(405, 'MethodNotAllowed', `${method} is not allowed here`);
  }

  function answer(response: ServerResponse, status: number, payload: Resource | undefined): void {
    response.setHeader('x-fc-request-id', `stub-${calls.length}`);
    if (payload === undefined) {
      response.writeHead(status).end();
      return;
    }
    response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(payload));
  }

  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const raw = Buffer.concat(chunks);
      const path = new URL(request.url ?? '/', 'http://stub').pathname;
      const method = request.method ?? 'GET';
      let body: Resource = {};
      const call: RecordedCall = { method, path, status: 0 };
      calls.push(call);
      try {
        const problem = checkSignature(request, path, raw, options);
        if (problem) {
          rejected.push(`${method} ${path}: ${problem}`);
          throw new ApiError(403, 'SignatureNotMatch', problem);
        }
        if (raw.length > 0) {
          body = JSON.parse(raw.toString('utf8'));
          call.body = body;
        }
        if (!path.startsWith(`${PREFIX}/`)) throw new ApiError(404, 'NotFound', 'unknown API version');
        const [status, payload] = route(method, path.slice(PREFIX.length + 1).split('/'), body);
        call.status = status;
        answer(response, status, payload);
      } catch (error) {
        const apiError =
          error instanceof ApiError ? error : new ApiError(500, 'InternalServerError', String(error));
        call.status = apiError.status;
        answer(response, apiError.status, { ErrorCode: apiError.code, ErrorMessage: apiError.message });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    calls,
    services,
    functions,
    triggers,
    rejected,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
