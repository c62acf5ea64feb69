/**
 * The one place the official client is imported from. A dynamic import, so that loading the library
 * does not load the client, grpc-js and google-protobuf; the function build swaps this target for
 * `not-bundled.ts` unless the bundle is built for the official transport (see infra/build/bundle.ts).
 */
export async function loadClientTransport() {
  const module = await import('./client-transport.js');
  return module.ClientTransport;
}
