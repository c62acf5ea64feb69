/** s3rver ships no types; infra/local-s3.ts and the tests use only its constructor. */
declare module 's3rver' {
  const S3rver: new (options: Record<string, unknown>) => unknown;
  export default S3rver;
}
