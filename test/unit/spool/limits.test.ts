import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../lib/errors.js';
import { beyondBounds, positiveLimit, positiveLimits } from '../../../lib/spool/limits.js';

describe('beyondBounds', () => {
  const now = 1_000_000;
  const entries = [
    { name: 'c', modifiedAt: now - 3 },
    { name: 'a', modifiedAt: now - 1 },
    { name: 'old', modifiedAt: now - 10_000 },
    { name: 'b', modifiedAt: now - 2 },
  ];

  it('deletes the oldest beyond the count and anything older than the age limit', () => {
    expect(beyondBounds(entries, { maxEntries: 2, maxAgeMs: 5000 }, now).map((e) => e.name)).toEqual([
      'c',
      'old',
    ]);
    expect(beyondBounds(entries, { maxEntries: 10, maxAgeMs: 5000 }, now).map((e) => e.name)).toEqual([
      'old',
    ]);
    expect(beyondBounds(entries, { maxEntries: 10, maxAgeMs: 50_000 }, now)).toEqual([]);
  });

  it('leaves its input as it was', () => {
    const copy = [...entries];
    beyondBounds(entries, { maxEntries: 1, maxAgeMs: 1 }, now);
    expect(entries).toEqual(copy);
  });
});

describe('positiveLimit', () => {
  it('passes a finite number > 0', () => {
    expect(positiveLimit(0.5, 'FileSpool', 'leaseMs')).toBe(0.5);
  });

  it.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY, '5' as unknown as number])(
    'refuses %s with CONFIG_INVALID naming the spool and the option',
    (value) => {
      expect(() => positiveLimit(value, 'S3Spool', 'quarantineMaxAgeMs')).toThrow(
        expect.objectContaining({
          code: ErrorCode.CONFIG_INVALID,
          message: expect.stringContaining('S3Spool quarantineMaxAgeMs must be a number > 0'),
        }),
      );
    },
  );
});

describe('positiveLimits', () => {
  const defaults = { leaseMs: 30_000, quarantineMaxFiles: 1000 };

  it('takes each given limit, the default for the others', () => {
    expect(positiveLimits('FileSpool', { leaseMs: 5 }, defaults)).toEqual({
      leaseMs: 5,
      quarantineMaxFiles: 1000,
    });
    expect(positiveLimits('FileSpool', {}, defaults)).toEqual(defaults);
  });

  it('checks the given ones as positiveLimit does, naming the option', () => {
    expect(() => positiveLimits('FileSpool', { quarantineMaxFiles: 0 }, defaults)).toThrow(
      expect.objectContaining({
        code: ErrorCode.CONFIG_INVALID,
        message: expect.stringContaining('FileSpool quarantineMaxFiles must be a number > 0'),
      }),
    );
  });
});
