export * from './codec.ts';
export * from './config.ts';
export * from './events.ts';
export * from './fastRequest.ts';
export * from './redisClient.ts';
export * from './stats.ts';
export * from './tokenCheck.ts';
export * from './transport.ts';
