import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import protobuf from 'protobufjs';
import { ROOT_DIR } from './targets.js';

/**
 * Writes the protobuf descriptor of the lean transport: the messages of SendMessage and QueryRoute,
 * and every type they reach, taken from the `.proto` files the official client package ships. The
 * descriptor is committed; `test/unit/lean-proto.test.ts` checks it is what this script produces.
 *
 *   npx tsx infra/build/lean-proto.ts
 */

export const LEAN_DESCRIPTOR_FILE = join(ROOT_DIR, 'lib', 'transport', 'lean', 'descriptor.json');

/** The request and response types the lean transport encodes and decodes. */
export const LEAN_ROOT_TYPES = [
  'apache.rocketmq.v2.SendMessageRequest',
  'apache.rocketmq.v2.SendMessageResponse',
  'apache.rocketmq.v2.QueryRouteRequest',
  'apache.rocketmq.v2.QueryRouteResponse',
] as const;

function protoDir(): string {
  const require = createRequire(join(ROOT_DIR, 'package.json'));
  const manifest = require.resolve('rocketmq-client-nodejs/package.json');
  return join(dirname(manifest), 'proto');
}

/** Full names (without the leading dot) of the root types and of every type their fields reach. */
function reachable(root: protobuf.Root): Set<string> {
  const seen = new Set<string>();
  const visit = (type: protobuf.Type | protobuf.Enum) => {
    const name = type.fullName.slice(1);
    if (seen.has(name)) return;
    seen.add(name);
    if (type instanceof protobuf.Type) {
      for (const field of type.fieldsArray) {
        const resolved = field.resolve().resolvedType;
        if (resolved) visit(resolved);
      }
    }
  };
  for (const name of LEAN_ROOT_TYPES) visit(root.lookupType(name));
  return seen;
}

type Nested = Record<string, { nested?: Nested } & Record<string, unknown>>;

/** Keeps only the namespaces leading to `keep` and the kept types themselves (with their own nested types). */
function prune(nested: Nested, keep: ReadonlySet<string>, prefix: string): Nested {
  const out: Nested = {};
  for (const [name, value] of Object.entries(nested)) {
    const full = prefix ? `${prefix}.${name}` : name;
    if (keep.has(full)) {
      out[name] = value;
    } else if (value.nested && [...keep].some((kept) => kept.startsWith(`${full}.`))) {
      const inner = prune(value.nested, keep, full);
      const isNamespace = !('fields' in value) && !('values' in value);
      out[name] = isNamespace ? { ...value, nested: inner } : { ...value, nested: inner };
    }
  }
  return out;
}

export function buildLeanDescriptor(): string {
  const dir = protoDir();
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => {
    // google/protobuf/* come with protobufjs itself; the rest is under the client's proto folder.
    if (target.startsWith('google/protobuf/')) return target;
    return join(dir, target);
  };
  root.loadSync('apache/rocketmq/v2/service.proto', { keepCase: false });
  root.resolveAll();
  const keep = reachable(root);
  const json = root.toJSON() as { nested: Nested };
  const pruned = { nested: prune(json.nested, keep, '') };
  return `${JSON.stringify(pruned, null, 1)}\n`;
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  writeFileSync(LEAN_DESCRIPTOR_FILE, buildLeanDescriptor());
  console.log(`wrote ${LEAN_DESCRIPTOR_FILE}`);
}
