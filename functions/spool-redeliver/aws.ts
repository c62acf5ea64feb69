import { lambdaHandler } from '../../lib/platforms/lambda.js';
import { spoolRedeliver } from './handler.js';

export const handler = lambdaHandler(spoolRedeliver);
