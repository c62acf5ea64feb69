import { lambdaHttpHandler } from 'rocketmq-serverless/lambda';
import { confirmOrder } from './handler.js';

export const handler = lambdaHttpHandler(confirmOrder);
