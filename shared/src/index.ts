export * from './codec.ts';
export * from './config.ts';
export * from './events.ts';
export * from './fastRequest.ts';
export * from './transport.ts';
