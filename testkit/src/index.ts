export * from './metricsText.ts';
export * from './processes.ts';
export * from './system.ts';
export * from './load.ts';
export * from './rawClient.ts';
export * from './exporterProcess.ts';
export * from './random.ts';
