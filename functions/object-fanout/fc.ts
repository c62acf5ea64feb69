import { fcEventHandler, fcInitializer, fcPreStop } from '../../lib/platforms/fc.js';
import { fanOutObjects } from './handler.js';

export const handler = fcEventHandler(fanOutObjects);
export const initializer = fcInitializer();
export const preStop = fcPreStop();
