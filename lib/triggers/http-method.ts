import { ErrorCode, EventError } from '../errors.js';
import type { HttpRequest } from './http.js';

/** METHOD_NOT_ALLOWED (HTTP 405); `allowed` feeds the `Allow` header of the response. */
// Its `name` stays 'EventError': EventError types `name` as that literal, so a subclass cannot change it.
export class MethodNotAllowedError extends EventError {
  readonly allowed: readonly string[];

  constructor(method: string, allowed: readonly string[]) {
    super(
      ErrorCode.METHOD_NOT_ALLOWED,
      `method ${method} is not allowed here; allowed: ${allowed.join(', ') || 'none'}`,
      { field: 'method' },
    );
    this.allowed = allowed;
  }
}

/**
 * Throws {@link MethodNotAllowedError} unless the request uses one of `allowed` (compared
 * case-insensitively; the request's method is already upper case).
 */
export function requireMethod(request: HttpRequest, allowed: readonly string[]): void {
  const methods = allowed.map((method) => method.toUpperCase());
  if (!methods.includes(request.method)) throw new MethodNotAllowedError(request.method, methods);
}
