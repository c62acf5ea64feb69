/** The shape the command-line tools share, so each behaves the same on bad arguments and `--help`. */

/** A mistake in how the tool was called: exit code 2, with the message (and the usage, while parsing). */
export class UsageError extends Error {}

/**
 * Parses the arguments (a `UsageError` or any parse error prints the message and the usage, exit 2;
 * `undefined` means `--help`: usage on stdout, exit 0), then runs and takes its exit code.
 */
export async function runCli<T>(
  usage: string,
  parse: (argv: string[]) => T | undefined,
  run: (options: T) => Promise<number>,
): Promise<void> {
  let options: T | undefined;
  try {
    options = parse(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${usage}\n`);
    process.exitCode = 2;
    return;
  }
  if (options === undefined) {
    process.stdout.write(`${usage}\n`);
    process.exitCode = 0;
    return;
  }
  try {
    process.exitCode = await run(options);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    // Found only while running (a busy port, a missing file): still the caller's to fix.
    process.stderr.write(`${error.message}\n`);
    process.exitCode = 2;
  }
}
