export * from './experiments.js';
export * from './runs.js';
export * from './metrics.js';
export * from './inputs.js';
