#!/usr/bin/env node
// The operator CLI. In a checkout with its devDependencies it runs the TypeScript sources through
// tsx; an installed package (no `src/`) or a checkout installed without devDependencies
// (`npm ci --omit=dev`, after `npm run build`) runs the compiled `dist/`.
import { existsSync } from 'node:fs';

const source = new URL('../src/cli/main.ts', import.meta.url);
let register = null;
if (existsSync(source)) {
  try {
    ({ register } = await import('tsx/esm/api'));
  } catch {
    // tsx is a devDependency: not installed, use dist/
  }
}
let cli;
if (register !== null) {
  register();
  cli = await import(source.href);
} else {
  cli = await import(new URL('../dist/cli/main.js', import.meta.url).href);
}
process.exitCode = await cli.run(process.argv.slice(2));
