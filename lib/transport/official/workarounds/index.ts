/**
 * The workarounds for defects of rocketmq-client-nodejs 1.0.8, one per module; each module says
 * which upstream behaviour it works around, where in the upstream source, and when it can go.
 */
export { countAnswers } from './answer-count.js';
export { installConnectionEpochs, useFreshConnections } from './connection-epochs.js';
export { guardTelemetryStreams } from './telemetry-streams.js';
export { makeShutdownTotal } from './total-shutdown.js';
export { forgetUnknownTopic } from './unknown-topics.js';
