import { ConfigError } from '../errors.js';
import { describeValue, isEventObject } from './fields.js';

/**
 * Options of the trigger mappers: every one a whole-number limit with a default. Options are written by
 * the developer, so a mistake is a {@link ConfigError}, and an unknown key (a typo such as `maxBodySize`)
 * is one too instead of a silently ignored limit.
 */
export function resolveLimits<T extends Record<string, number>>(
  options: unknown,
  defaults: T,
  where: string,
): T {
  if (options === undefined) return defaults;
  if (!isEventObject(options)) throw new ConfigError(`${where}: options must be an object`);
  const resolved: Record<string, number> = { ...defaults };
  for (const [key, value] of Object.entries(options)) {
    if (!Object.hasOwn(defaults, key)) {
      throw new ConfigError(`${where}: unknown option "${key}"; known: ${Object.keys(defaults).join(', ')}`, {
        field: key,
      });
    }
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
      throw new ConfigError(`${where}: ${key} must be a whole number ≥ 0, got ${describeValue(value)}`, {
        field: key,
      });
    }
    resolved[key] = value;
  }
  return resolved as T;
}
