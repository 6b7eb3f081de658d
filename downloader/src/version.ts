export { VERSION } from '@dl/shared';
