// Loads one project in a fresh process and prints what it measured as one JSON line. The parent
// (load-project.mjs) measures wall time from spawn to exit around it.
import { loadProject } from '../dist/project/project-loader.js';

const [dir, cacheMode] = process.argv.slice(2);
const started = performance.now();
const project = await loadProject(dir, { useCache: cacheMode === 'warm' });
const loadMs = performance.now() - started;

const order = project.dag.nodes;
process.stdout.write(
  `${JSON.stringify({
    models: project.models.size,
    ordered: order.length,
    loadMs,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
  })}\n`,
);
