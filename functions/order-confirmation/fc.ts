import { fcHttpHandler, fcInitializer, fcPreStop } from '../../lib/platforms/fc.js';
import { confirmOrder } from './handler.js';

export const handler = fcHttpHandler(confirmOrder);
export const initializer = fcInitializer();
export const preStop = fcPreStop();
