import { spawn } from 'node:child_process';
import { access, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { runCli, UsageError } from './cli.js';

/**
 * `npm run deploy:aws`: `osls deploy` with the arguments given. With `--dry-run`, `osls package` instead,
 * offline and without AWS credentials: every value serverless.yml would otherwise read from SSM gets a
 * stand-in, the CloudFormation template is written under `.serverless/` and summarised here.
 */

const USAGE = `Usage: npm run deploy:aws -- [--dry-run] [osls deploy options, e.g. --stage prod --region eu-west-1]

Deploys serverless.yml (the zips of npm run build) with osls, the Serverless Framework v3 line.
  --dry-run   package only: no AWS call, no credentials; unset values that would be read from SSM get a
              stand-in ("dry-run-<name>"), named in the output
  -h, --help  this text

Exit codes: 0 done; 1 osls failed; 2 usage (a zip is missing: run npm run build).`;

/** Variables serverless.yml falls back to SSM for; a dry run must not ask SSM. */
export const SSM_BACKED = [
  'ROCKETMQ_ENDPOINTS',
  'ROCKETMQ_NAMESPACE',
  'ROCKETMQ_ACCESS_KEY',
  'ROCKETMQ_SECRET_KEY',
  'OBJECT_EVENTS_BUCKET',
];

const AWS_CREDENTIAL_VARIABLES = [
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_PROFILE',
];

interface Options {
  dryRun: boolean;
  passThrough: string[];
}

function parseOptions(argv: string[]): Options | undefined {
  const args = argv[0] === '--' ? argv.slice(1) : argv;
  if (args.includes('-h') || args.includes('--help')) return undefined;
  return { dryRun: args.includes('--dry-run'), passThrough: args.filter((arg) => arg !== '--dry-run') };
}

function osls(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const bin = createRequire(import.meta.url).resolve('osls/bin/serverless.js');
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: 'inherit', env });
    child.once('exit', (code) => resolve(code ?? 1));
  });
}

/** The zips serverless.yml points at, which npm run build makes. */
async function missingArtifacts(dir: string): Promise<string[]> {
  const text = await readFile(join(dir, 'serverless.yml'), 'utf8');
  const artifacts = [...text.matchAll(/^\s*artifact:\s*(\S+)\s*$/gm)].map((match) => match[1] as string);
  const missing: string[] = [];
  for (const artifact of artifacts) {
    if (
      !(await access(join(dir, artifact)).then(
        () => true,
        () => false,
      ))
    )
      missing.push(artifact);
  }
  return missing;
}

interface Template {
  Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
}

async function dryRun(options: Options): Promise<number> {
  const dir = process.cwd();
  const missing = await missingArtifacts(dir);
  if (missing.length > 0) throw new UsageError(`missing ${missing.join(', ')}: run npm run build first`);
  const env: NodeJS.ProcessEnv = { ...process.env };
  // No credentials reach the packager: nothing in a dry run may talk to AWS.
  for (const name of AWS_CREDENTIAL_VARIABLES) delete env[name];
  const stood: string[] = [];
  for (const name of SSM_BACKED) {
    if (!env[name]) {
      env[name] = `dry-run-${name.toLowerCase().replace(/_/g, '-')}`;
      stood.push(name);
    }
  }
  const out = join(dir, '.serverless');
  const code = await osls(['package', '--package', out, ...options.passThrough], env);
  if (code !== 0) return 1;
  const template = JSON.parse(
    await readFile(join(out, 'cloudformation-template-update-stack.json'), 'utf8'),
  ) as Template;
  const lines = ['', `dry run: packaged into ${relative(process.cwd(), out) || out}; nothing was deployed`];
  for (const resource of Object.values(template.Resources)) {
    if (resource.Type !== 'AWS::Lambda::Function') continue;
    const p = resource.Properties as {
      FunctionName?: string;
      Runtime?: string;
      MemorySize?: number;
      Timeout?: number;
      Architectures?: string[];
    };
    lines.push(
      `  ${p.FunctionName}  ${p.Runtime} ${p.Architectures?.join(',') ?? ''}  ${p.MemorySize} MB  ${p.Timeout} s`,
    );
  }
  if (stood.length > 0) lines.push(`stand-ins for unset values (SSM at a real deploy): ${stood.join(', ')}`);
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

await runCli(USAGE, parseOptions, async (options) => {
  if (options.dryRun) return dryRun(options);
  const code = await osls(['deploy', ...options.passThrough], process.env);
  return code === 0 ? 0 : 1;
});
