import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import {
  configRows,
  END,
  markdownTable,
  README,
  START,
  withConfigTable,
} from '../../../infra/config-table.js';
import { CLIENT_OPTIONS } from '../../../lib/config.js';
import { PRODUCER_OPTIONS } from '../../../lib/producer/options.js';

function leafPaths(schema: object, prefix = ''): string[] {
  return Object.entries(schema).flatMap(([key, entry]) =>
    'group' in entry ? leafPaths(entry.group, `${prefix}${key}.`) : [`${prefix}${key}`],
  );
}

describe("README's configuration table", () => {
  it('is what the option schema generates (run npm run generate after changing an option)', async () => {
    const committed = await readFile(README, 'utf8');
    expect(committed).toContain(START);
    expect(committed).toBe(await withConfigTable(committed));
  });

  it('has one row per option of the schema, each with its doc text, kind and default', async () => {
    const rows = await configRows();
    expect(rows.map((row) => row.option.replaceAll('`', ''))).toEqual(leafPaths(PRODUCER_OPTIONS));
    for (const row of rows) {
      expect(row.description, row.option).not.toBe('');
      expect(row.default, row.option).not.toBe('');
    }
    expect(rows.find((row) => row.option === '`sendTimeoutMs`')).toEqual({
      option: '`sendTimeoutMs`',
      accepts: 'an integer ≥ 1',
      env: '`ROCKETMQ_SEND_TIMEOUT_MS`',
      default: '3000',
      description: 'Upper bound of one whole send, retries included.',
    });
    expect(rows.find((row) => row.option === '`maxInFlightBytes`')?.default).toBe('64 MiB');
    expect(rows.find((row) => row.option === '`attemptTimeoutMs`')?.default).toBe('half of `sendTimeoutMs`');
    expect(leafPaths(CLIENT_OPTIONS)).toContain('retry.maxAttempts');
  });

  it('replaces only the text between the markers, and refuses a README without them', async () => {
    const fresh = await withConfigTable(`before\n${START}\nstale\n${END}\nafter\n`);
    expect(fresh).toBe(`before\n${START}\n${markdownTable(await configRows())}\n${END}\nafter\n`);
    await expect(withConfigTable('no markers here')).rejects.toThrow(/config-table:start/);
  });

  it('escapes a | inside a cell', () => {
    const table = markdownTable([
      { option: 'a', accepts: 'x | y', env: '—', default: '1', description: 'd' },
    ]);
    expect(table.split('\n')[2]).toContain('x \\| y');
  });
});
