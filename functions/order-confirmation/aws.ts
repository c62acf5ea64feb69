import { lambdaHttpHandler } from '../../lib/platforms/lambda.js';
import { confirmOrder } from './handler.js';

export const handler = lambdaHttpHandler(confirmOrder);
