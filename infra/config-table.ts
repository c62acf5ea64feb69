import { readFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { CLIENT_OPTIONS } from '../lib/config.js';
import { isGroup, type Schema } from '../lib/options/schema.js';
import { PRODUCER_ONLY_OPTIONS } from '../lib/producer/options.js';

/**
 * Builds the README's configuration table from the option schema (`npm run generate` writes it, and
 * `npm run generate -- --check` fails when it is out of date): the kind, environment variable and
 * default of each option from the schema itself, its description (and any `@env` / `@default` in words)
 * from the JSDoc on its schema entry.
 */

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const README = join(ROOT, 'README.md');
export const START = '<!-- config-table:start -->';
export const END = '<!-- config-table:end -->';

/** The schema declarations the table is made of, in the order of its rows. */
const SOURCES = [
  { file: join(ROOT, 'lib', 'config.ts'), name: 'CLIENT_OPTIONS', schema: CLIENT_OPTIONS as Schema },
  {
    file: join(ROOT, 'lib', 'producer', 'options.ts'),
    name: 'PRODUCER_ONLY_OPTIONS',
    schema: PRODUCER_ONLY_OPTIONS as Schema,
  },
];

export class ConfigTableError extends Error {}

interface Doc {
  text: string;
  tags: Record<string, string>;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** The JSDoc of each property of the object literal `name` in `file`, by dotted path (groups nested). */
async function docsOf(file: string, name: string): Promise<Map<string, Doc>> {
  const source = ts.createSourceFile(file, await readFile(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const docs = new Map<string, Doc>();
  const walk = (literal: ts.ObjectLiteralExpression, prefix: string) => {
    for (const property of literal.properties) {
      if (!ts.isPropertyAssignment(property) || !ts.isIdentifier(property.name)) continue;
      const path = `${prefix}${property.name.text}`;
      const [jsDoc] = ts.getJSDocCommentsAndTags(property).filter(ts.isJSDoc);
      if (jsDoc) {
        const tags = Object.fromEntries(
          (jsDoc.tags ?? []).map((tag) => [
            tag.tagName.text,
            oneLine(ts.getTextOfJSDocComment(tag.comment) ?? ''),
          ]),
        );
        docs.set(path, { text: oneLine(ts.getTextOfJSDocComment(jsDoc.comment) ?? ''), tags });
      }
      const call = property.initializer;
      if (ts.isCallExpression(call) && ts.isIdentifier(call.expression) && call.expression.text === 'group') {
        const [argument] = call.arguments;
        if (argument && ts.isObjectLiteralExpression(argument)) walk(argument, `${path}.`);
      }
    }
  };
  source.forEachChild(function visit(node) {
    if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && node.name.text === name) {
      if (node.initializer && ts.isObjectLiteralExpression(node.initializer)) walk(node.initializer, '');
    }
    node.forEachChild(visit);
  });
  return docs;
}

const MIB = 1024 * 1024;

function formatDefault(key: string, value: unknown): string {
  if (typeof value === 'number') {
    if (key.endsWith('Bytes') && value >= MIB && value % MIB === 0) return `${value / MIB} MiB`;
    return value >= 10_000 ? value.toLocaleString('en-US') : String(value);
  }
  return typeof value === 'string' ? `\`'${value}'\`` : `\`${String(value)}\``;
}

export interface Row {
  option: string;
  accepts: string;
  env: string;
  default: string;
  description: string;
}

/** One row per option, groups flattened (`retry.maxAttempts`); every option must have its doc text. */
export async function configRows(): Promise<Row[]> {
  const rows: Row[] = [];
  for (const { file, name, schema } of SOURCES) {
    const docs = await docsOf(file, name);
    const where = relative(ROOT, file);
    const add = (entries: Schema, prefix: string) => {
      for (const [key, entry] of Object.entries(entries)) {
        const path = `${prefix}${key}`;
        if (isGroup(entry)) {
          add(entry.group, `${path}.`);
          continue;
        }
        const doc = docs.get(path);
        if (!doc?.text)
          throw new ConfigTableError(`${where}: option ${path} has no JSDoc on its ${name} entry`);
        const plain = entry.default !== undefined && typeof entry.default !== 'function';
        const fallback = doc.tags.default ?? (plain ? formatDefault(key, entry.default) : undefined);
        if (fallback === undefined) {
          throw new ConfigTableError(
            `${where}: option ${path} has a computed or no default and no @default text`,
          );
        }
        rows.push({
          option: `\`${path}\``,
          accepts: entry.kind.expects,
          env: [entry.env && `\`${entry.env}\``, doc.tags.env].filter(Boolean).join('; ') || '—',
          default: fallback,
          description: doc.text,
        });
      }
    };
    add(schema, '');
  }
  return rows;
}

function cell(text: string): string {
  return text.replaceAll('|', '\\|');
}

/** A Markdown table with its columns padded, as the README's other tables are. */
export function markdownTable(rows: readonly Row[]): string {
  const header: Row = {
    option: 'option',
    accepts: 'accepts',
    env: 'env',
    default: 'default',
    description: 'description',
  };
  const columns = Object.keys(header) as (keyof Row)[];
  const all = [header, ...rows].map((row) => columns.map((column) => cell(row[column])));
  const widths = columns.map((_, index) => Math.max(...all.map((row) => row[index]?.length ?? 0)));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((text, index) => text.padEnd(widths[index] ?? 0)).join(' | ')} |`;
  const [head, ...body] = all;
  return [line(head ?? []), line(widths.map((width) => '-'.repeat(width))), ...body.map(line)].join('\n');
}

/** `readme` with the text between the markers replaced by a fresh table. */
export async function withConfigTable(readme: string): Promise<string> {
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) throw new ConfigTableError(`README.md has no ${START} … ${END} markers`);
  const table = markdownTable(await configRows());
  return `${readme.slice(0, start + START.length)}\n${table}\n${readme.slice(end)}`;
}
