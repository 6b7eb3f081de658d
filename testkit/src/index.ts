export * from './exporterProcess.ts';
export * from './load.ts';
export * from './metricsText.ts';
export * from './processes.ts';
export * from './random.ts';
export * from './rawClient.ts';
export * from './redisServer.ts';
export * from './system.ts';
