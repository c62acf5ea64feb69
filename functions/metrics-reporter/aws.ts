import { lambdaHandler } from '../../lib/platforms/lambda.js';
import { reportMetrics } from './handler.js';

export const handler = lambdaHandler(reportMetrics);
