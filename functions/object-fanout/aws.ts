import { lambdaHandler } from '../../lib/platforms/lambda.js';
import { fanOutObjects } from './handler.js';

export const handler = lambdaHandler(fanOutObjects);
