import { lambdaHandler } from 'rocketmq-serverless/lambda';
import { fanOutObjects } from './handler.js';

export const handler = lambdaHandler(fanOutObjects);
