/**
 * `rocketmq-serverless/spool`: where failed async sends wait for a later delivery. A producer takes
 * one through its `spool` option (or `ROCKETMQ_SPOOL`); a redelivery function resends what it holds.
 */
export { DEFAULT_SPOOL_DIR, FileSpool, type FileSpoolOptions } from '../spool/file-spool.js';
export { type S3ClientLike, type S3Sdk, S3Spool, type S3SpoolOptions } from '../spool/s3-spool.js';
export type {
  RedeliverOptions,
  RedeliverReport,
  Spool,
  SpoolRecord,
  SpoolSender,
} from '../spool/spool.js';
