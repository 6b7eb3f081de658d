import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

/**
 * The dashboard's static files. They sit next to this module in the source tree and next to the
 * bundle in dist/ (scripts/build.mjs copies them), so one relative URL finds them in both. uPlot
 * comes from its npm package: served locally, never from a CDN.
 */
export interface Asset {
  body: string;
  type: string;
}

const require = createRequire(import.meta.url);
const local = (name: string) => new URL(name, import.meta.url);
/** In dist/ the build copied the file next to the bundle; in the source tree it is in node_modules. */
const localOr = (name: string, pkgPath: string) => (existsSync(local(name)) ? local(name) : require.resolve(pkgPath));

const SOURCES: Record<string, { file: () => string | URL; type: string }> = {
  'dashboard.html': { file: () => local('dashboard.html'), type: 'text/html; charset=utf-8' },
  'dashboard.js': { file: () => local('dashboard.js'), type: 'text/javascript; charset=utf-8' },
  'dashboard.css': { file: () => local('dashboard.css'), type: 'text/css; charset=utf-8' },
  'uplot.js': { file: () => localOr('uplot.js', 'uplot/dist/uPlot.iife.min.js'), type: 'text/javascript; charset=utf-8' },
  'uplot.css': { file: () => localOr('uplot.css', 'uplot/dist/uPlot.min.css'), type: 'text/css; charset=utf-8' },
};

/** Reads every asset once; a missing file fails start-up rather than the first page view. */
export function loadDashboardAssets(): Map<string, Asset> {
  return new Map(Object.entries(SOURCES).map(([name, s]) => [name, { body: readFileSync(s.file(), 'utf8'), type: s.type }]));
}
