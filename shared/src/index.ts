export * from './codec.ts';
export * from './config.ts';
export * from './events.ts';
export * from './fastRequest.ts';
export * from './redisOptions.ts';
export * from './stats.ts';
export * from './transport.ts';
