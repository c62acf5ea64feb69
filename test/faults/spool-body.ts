/** The bodies the spool writer appends, shared by the writer child and the checks in the suite. */

export interface SpoolBody {
  key: string;
  padLength: number;
  pad: string;
}

const MiB = 1024 * 1024;

/**
 * Every eighth body is large (0.6 to 1.6 MiB): its record takes several write calls (Node writes a
 * file in 512 KiB chunks), so a kill can land between two of them. Each body names its key and its
 * length, so a reader can tell an intact record from a damaged one.
 */
export function spoolBody(key: string, n: number): SpoolBody {
  const padLength = n % 8 === 7 ? 600 * 1024 + ((n * 7919) % MiB) : 64 + (n % 200);
  return { key, padLength, pad: String.fromCharCode(97 + (n % 26)).repeat(padLength) };
}

/** Whether a body read back from the spool is exactly what the writer appended for `key`. */
export function isIntactSpoolBody(body: Buffer, key: string): boolean {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as Partial<SpoolBody>;
    return (
      parsed.key === key &&
      typeof parsed.pad === 'string' &&
      parsed.pad.length === parsed.padLength &&
      /^([a-z])\1*$/.test(parsed.pad)
    );
  } catch {
    return false;
  }
}
