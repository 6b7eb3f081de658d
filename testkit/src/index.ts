export * from './metricsText.ts';
export * from './processes.ts';
export * from './system.ts';
export * from './load.ts';
