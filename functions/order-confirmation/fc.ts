import { fcHttpHandler, fcInitializer, fcPreStop } from 'rocketmq-serverless/fc';
import { topics } from '../topics.js';
import { confirmOrder } from './handler.js';

export const handler = fcHttpHandler(confirmOrder);
export const initializer = fcInitializer({ warmTopics: [topics.orders] });
export const preStop = fcPreStop();
