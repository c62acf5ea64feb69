import { lambdaHandler } from 'rocketmq-serverless/lambda';
import { spoolRedeliver } from './handler.js';

export const handler = lambdaHandler(spoolRedeliver);
