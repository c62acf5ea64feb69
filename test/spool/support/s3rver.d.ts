/** s3rver ships no types; the tests use only its constructor (see s3-server.ts). */
declare module 's3rver' {
  const S3rver: new (options: Record<string, unknown>) => unknown;
  export default S3rver;
}
