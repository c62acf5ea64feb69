import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { type FcHandlerOptions, fcEventHandler, fcInitializer, fcPreStop } from 'rocketmq-serverless/fc';
import { S3Spool } from 'rocketmq-serverless/spool';
import { spoolRedeliver } from './handler.js';

// FC's runtime has no AWS SDK: with the object spool configured, this bundle carries the S3 client (only
// the commands the spool sends, so the rest of the SDK is left out).
const sdk = {
  S3Client,
  PutObjectCommand,
  GetObjectCommand,
  DeleteObjectCommand,
  ListObjectsV2Command,
  CopyObjectCommand,
};

// Without ROCKETMQ_SPOOL_URL the producer's spool comes from the environment as usual (the file spool).
const options: FcHandlerOptions = process.env.ROCKETMQ_SPOOL_URL
  ? { producer: { spool: new S3Spool({ sdk }) } }
  : {};

export const handler = fcEventHandler(spoolRedeliver, options);
export const initializer = fcInitializer(options);
export const preStop = fcPreStop();
