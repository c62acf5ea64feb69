import { lambdaHandler } from 'rocketmq-serverless/lambda';
import { reportMetrics } from './handler.js';

export const handler = lambdaHandler(reportMetrics);
