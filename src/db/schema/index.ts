export * from './experiments.js';
export * from './runs.js';
export * from './metrics.js';
export * from './inputs.js';
export * from './registry.js';
export * from './logged-models.js';
export * from './wandb.js';
export * from './auth.js';
