/**
 * Appends records to a FileSpool in a tight loop until it is killed; the fault suite kills it with
 * SIGKILL at a random moment. Forked by faults.test.ts with an IPC channel; never import it (a vitest
 * worker has an IPC channel too, and would start appending).
 *
 * Several appends run at once, as when many async sends fail together, so a kill usually finds some
 * records half-written. After each append resolves, the record's id is reported: those records must
 * survive the kill whole.
 */
import { validateMessage } from '../../lib/message.js';
import { FileSpool } from '../../lib/spool/file-spool.js';
import { spoolBody } from './spool-body.js';

export interface SpoolWriterConfig {
  dir: string;
  topic: string;
  /** Prefix of the keys, unique per round. */
  prefix: string;
  /** Appends in progress at any time. */
  parallel: number;
}

export type SpoolWriterReport = { kind: 'ready' } | { kind: 'appended'; id: string; key: string };

const send = process.send?.bind(process);
if (!send) throw new Error('spool-writer-child.ts is forked by the fault suite; it needs an IPC channel');
const report = (message: SpoolWriterReport) => send(message);

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? '{}') as SpoolWriterConfig;
  const spool = new FileSpool({ dir: config.dir });
  process.on('disconnect', () => process.exit(0));
  report({ kind: 'ready' });
  let next = 0;
  const loop = async () => {
    for (;;) {
      const n = next++;
      const key = `${config.prefix}-${n}`;
      const message = validateMessage({ topic: config.topic, keys: [key], body: spoolBody(key, n) });
      const id = await spool.append(message, { code: 'UNAVAILABLE', message: 'injected by the fault suite' });
      report({ kind: 'appended', id, key });
    }
  };
  await Promise.all(Array.from({ length: config.parallel }, loop));
}

main().catch((error: unknown) => {
  process.stderr.write(`spool-writer-child: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
