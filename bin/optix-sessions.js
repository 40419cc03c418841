#!/usr/bin/env node
// The operator CLI. In a checkout it runs the TypeScript sources through tsx (a dependency); an
// installed package without `src/` runs the compiled `dist/`.
import { existsSync } from 'node:fs';

const source = new URL('../src/cli/main.ts', import.meta.url);
let cli;
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  cli = await import(source.href);
} else {
  cli = await import(new URL('../dist/cli/main.js', import.meta.url).href);
}
process.exitCode = await cli.run(process.argv.slice(2));
