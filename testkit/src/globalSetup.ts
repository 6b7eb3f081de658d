import { buildAll } from '../../scripts/build.mjs';
import { repoRoot } from './processes.ts';

/** Builds dist/ once per test run, so suites start the services exactly as `npm start` does. */
export default async function setup(): Promise<void> {
  process.chdir(repoRoot);
  await buildAll();
}
