import { fcEventHandler, fcInitializer, fcPreStop } from '../../lib/platforms/fc.js';
import { reportMetrics } from './handler.js';

export const handler = fcEventHandler(reportMetrics);
export const initializer = fcInitializer();
export const preStop = fcPreStop();
