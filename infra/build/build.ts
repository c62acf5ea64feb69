import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { runCli, UsageError } from '../cli.js';
import { FUNCTIONS_DIR, listFunctions } from '../emulate.js';
import { BundleError, bundle } from './bundle.js';
import { forbiddenInputs, missingRequireBanner } from './checks.js';
import { loadedExports } from './load-check.js';
import {
  type BuildReport,
  type BundleRecord,
  largestPackages,
  measure,
  overBudget,
  parseBudget,
  ratios,
  sizeTable,
} from './report.js';
import {
  BUILD_PLATFORMS,
  type BuildPlatform,
  DEFAULT_BUDGET_FILE,
  DEFAULT_OUT_DIR,
  NODE_TARGET,
  PLATFORM_TARGETS,
  RAW_CLIENT_ENTRY,
  RAW_CLIENT_NAME,
  ROOT_DIR,
} from './targets.js';
import { createZip } from './zip.js';

const USAGE = `Usage: npm run build -- [options]

Bundles every function with esbuild, one bundle per platform, and zips each for upload:
  Function Compute  dist/fc/<function>/index.js   (CommonJS; handler, initializer, preStop) + dist/fc/<function>.zip
  AWS Lambda        dist/aws/<function>/index.mjs (ES module; handler)                    + dist/aws/<function>.zip
Also bundles the official client alone (dist/raw-client/) to compare sizes with, prints a size table,
writes dist/build-report.json and fails when a bundle is over the budget.

Options:
  --out-dir <dir>   where to write (default dist)
  --budget <file>   size limits per platform (default infra/build/budget.json)
  -h, --help        this text

Exit codes: 0 built and within budget; 1 a bundle failed to build, failed a check or is over budget; 2 usage.`;

class CheckError extends Error {}

interface Options {
  outDir: string;
  budgetFile: string;
}

function parseOptions(argv: string[]): Options | undefined {
  // A parse error reaches runCli, which prints it with the usage text and exits 2.
  const { values } = parseArgs({
    args: argv,
    options: {
      'out-dir': { type: 'string' },
      budget: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return undefined;
  return {
    outDir: resolve(values['out-dir'] ?? DEFAULT_OUT_DIR),
    budgetFile: resolve(values.budget ?? DEFAULT_BUDGET_FILE),
  };
}

async function readBudget(file: string) {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new UsageError(`cannot read the budget ${file}: ${(error as Error).message}`);
  }
  try {
    return parseBudget(parsed, relative(ROOT_DIR, file) || file);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/**
 * Bundles one entry into `dir`, checks it, and (when `zipFile` is given) zips it for upload. Deployable
 * bundles are also loaded once, to check their exports.
 */
async function buildOne(
  platform: BuildPlatform,
  name: string,
  entry: string,
  outDir: string,
  dir: string,
  zipFile?: string,
): Promise<BundleRecord> {
  const target = PLATFORM_TARGETS[platform];
  const result = await bundle({ entry, outFile: join(dir, target.outFile), format: target.format });
  const code = await readFile(result.outFile, 'utf8');
  const label = `${platform}/${name}`;
  const problems = [
    ...forbiddenInputs(result.metafile, target),
    ...missingRequireBanner(result.metafile, target.format, code),
  ];
  if (zipFile !== undefined) {
    const exported = await loadedExports(result.outFile, target.format);
    for (const needed of target.exports) {
      if (!exported.includes(needed))
        problems.push(`does not export "${needed}" (exports: ${exported.join(', ')})`);
    }
  }
  if (problems.length > 0) throw new CheckError(`${label} ${problems.join('; ')}`);

  const record: BundleRecord = {
    platform,
    name,
    file: relative(outDir, result.outFile),
    inputs: Object.keys(result.metafile.inputs).length,
    largestPackages: largestPackages(result.metafile.inputs),
    ...(await measure(result.outFile)),
  };
  if (zipFile !== undefined) {
    // The map rides along: with NODE_OPTIONS=--enable-source-maps, stack traces point into our sources.
    const zip = createZip([
      { name: target.outFile, data: Buffer.from(code) },
      { name: basename(result.mapFile), data: await readFile(result.mapFile) },
    ]);
    await writeFile(zipFile, zip);
    record.zip = relative(outDir, zipFile);
    record.zipBytes = zip.length;
  }
  return record;
}

async function buildAll(options: Options): Promise<BuildReport> {
  const budget = await readBudget(options.budgetFile);
  const functions = await listFunctions();
  for (const dir of [...BUILD_PLATFORMS, RAW_CLIENT_NAME]) {
    await rm(join(options.outDir, dir), { recursive: true, force: true });
  }
  await mkdir(options.outDir, { recursive: true });

  const { outDir } = options;
  const jobs = BUILD_PLATFORMS.flatMap((platform) =>
    functions.map((name) =>
      buildOne(
        platform,
        name,
        join(FUNCTIONS_DIR, name, PLATFORM_TARGETS[platform].entry),
        outDir,
        join(outDir, platform, name),
        join(outDir, platform, `${name}.zip`),
      ),
    ),
  );
  const rawJobs = BUILD_PLATFORMS.map((platform) =>
    buildOne(platform, RAW_CLIENT_NAME, RAW_CLIENT_ENTRY, outDir, join(outDir, RAW_CLIENT_NAME, platform)),
  );
  const bundles = await Promise.all(jobs);
  const rawClient = await Promise.all(rawJobs);

  const report: BuildReport = {
    target: NODE_TARGET,
    bundles,
    rawClient,
    ratios: ratios(bundles, rawClient),
    budget,
    overBudget: overBudget(bundles, budget),
  };
  await writeFile(join(options.outDir, 'build-report.json'), `${JSON.stringify(report, null, 2)}\n`);
  return report;
}

async function buildCommand(options: Options): Promise<number> {
  try {
    const report = await buildAll(options);
    process.stdout.write(
      `${sizeTable(report)}\n\nreport: ${relative(process.cwd(), join(options.outDir, 'build-report.json'))}\n`,
    );
    if (report.overBudget.length > 0) {
      process.stderr.write(
        `build failed: over the size budget (${relative(process.cwd(), options.budgetFile)}):\n  ${report.overBudget.join('\n  ')}\n`,
      );
      return 1;
    }
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`${error.message}\n`);
      return 2;
    }
    const known = error instanceof BundleError || error instanceof CheckError;
    process.stderr.write(`build failed: ${known ? (error as Error).message : (error as Error).stack}\n`);
    return 1;
  }
}

await runCli(USAGE, parseOptions, buildCommand);
