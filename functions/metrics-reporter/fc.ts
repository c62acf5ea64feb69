import { fcEventHandler, fcInitializer, fcPreStop } from 'rocketmq-serverless/fc';
import { topics } from '../topics.js';
import { reportMetrics } from './handler.js';

export const handler = fcEventHandler(reportMetrics);
export const initializer = fcInitializer({ warmTopics: [topics.metrics] });
export const preStop = fcPreStop();
