/** The fault suite's result table: one row per scenario, printed and written to the OS temp dir. */
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ScenarioRow {
  scenario: string;
  /** Send calls made (every mode). */
  sent: number;
  /** Sync sends that resolved and async sends whose onSuccess ran. */
  acked: number;
  /** Distinct messages of the scenario that a consumer read back (or the ledger holds, after a kill). */
  readBack: number | string;
  /** Sync sends that threw: the caller owns them. */
  failedToCaller: number | string;
  /** Async failures written to the spool. */
  spooled: number | string;
  /** Oneway sends that never reached the broker. */
  dropped: number | string;
  /** Messages stored more than once (at-least-once; reported, not asserted). */
  duplicates: number;
  /** Sync/async messages neither stored-and-acked, nor thrown to the caller, nor spooled. Must be 0. */
  lost: number;
  /** Details printed under the table. */
  notes: string[];
}

const COLUMNS = [
  'scenario',
  'sent',
  'acked',
  'read back',
  'failed-to-caller',
  'spooled',
  'dropped (oneway)',
  'duplicates',
  'lost',
];

const format = (value: number | string) =>
  typeof value === 'number' ? value.toLocaleString('en-US') : value;

export function renderTable(rows: readonly ScenarioRow[], title: string): string {
  const lines = [
    `### ${title}`,
    '',
    `| ${COLUMNS.join(' | ')} |`,
    `| ${COLUMNS.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`,
  ];
  for (const row of rows) {
    const cells = [
      row.scenario,
      row.sent,
      row.acked,
      row.readBack,
      row.failedToCaller,
      row.spooled,
      row.dropped,
      row.duplicates,
      row.lost,
    ];
    lines.push(`| ${cells.map(format).join(' | ')} |`);
  }
  const notes = rows.flatMap((row) => row.notes.map((note) => `- ${row.scenario}: ${note}`));
  if (notes.length > 0) lines.push('', ...notes);
  return `${lines.join('\n')}\n`;
}

/** Writes the table to the OS temp dir (never into the repository) and returns the path. */
export function writeTable(markdown: string, size: string): string {
  const path = join(tmpdir(), `rocketmq-serverless-faults-${size}-${Date.now()}.md`);
  writeFileSync(path, markdown);
  return path;
}
