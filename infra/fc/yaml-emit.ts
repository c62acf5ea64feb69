/**
 * Writes plain data (objects, arrays, strings, numbers, booleans) as block-style YAML. Strings stay
 * unquoted only when they cannot be read back as anything else; the others are quoted (a JSON string is
 * a valid double-quoted YAML scalar). Enough for generated config files, nothing more.
 */

type Data = string | number | boolean | Data[] | { [key: string]: Data };

const PLAIN = /^[A-Za-z$./][\w$./(){}', :@-]*$/;
const RESERVED = /^(true|false|yes|no|on|off|null|y|n|~)$/i;

function scalar(value: string | number | boolean): string {
  if (typeof value !== 'string') return String(value);
  const plain =
    PLAIN.test(value) &&
    !RESERVED.test(value) &&
    !value.includes(': ') &&
    !value.endsWith(':') &&
    !value.endsWith(' ');
  if (plain) return value;
  // The quote style Biome's YAML formatter settles on: double quotes, unless the text holds double quotes
  // and no single ones (single-quoted YAML cannot hold control characters, so those keep JSON escapes).
  if (value.includes('"') && !value.includes("'") && ![...value].some((char) => char.charCodeAt(0) < 0x20))
    return `'${value}'`;
  return JSON.stringify(value);
}

function isEmpty(value: Data): boolean {
  return Array.isArray(value)
    ? value.length === 0
    : typeof value === 'object' && Object.keys(value).length === 0;
}

function lines(value: Data, indent: string): string[] {
  if (Array.isArray(value)) {
    return value.flatMap((item) => {
      if (typeof item !== 'object' || isEmpty(item))
        return [
          `${indent}- ${typeof item === 'object' ? (Array.isArray(item) ? '[]' : '{}') : scalar(item)}`,
        ];
      const [first, ...rest] = lines(item, `${indent}  `);
      return [`${indent}- ${first?.trimStart() ?? ''}`, ...rest];
    });
  }
  if (typeof value === 'object') {
    return Object.entries(value).flatMap(([key, item]) => {
      const name = scalar(key);
      if (typeof item !== 'object') return [`${indent}${name}: ${scalar(item)}`];
      if (isEmpty(item)) return [`${indent}${name}: ${Array.isArray(item) ? '[]' : '{}'}`];
      return [`${indent}${name}:`, ...lines(item, `${indent}  `)];
    });
  }
  return [`${indent}${scalar(value)}`];
}

export function toYaml(value: { [key: string]: Data }): string {
  return `${lines(value, '').join('\n')}\n`;
}

export type { Data as YamlData };
