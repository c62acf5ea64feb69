import { fcEventHandler, fcInitializer, fcPreStop } from 'rocketmq-serverless/fc';
import { topics } from '../topics.js';
import { fanOutObjects } from './handler.js';

export const handler = fcEventHandler(fanOutObjects);
export const initializer = fcInitializer({ warmTopics: [topics.objectEvents] });
export const preStop = fcPreStop();
