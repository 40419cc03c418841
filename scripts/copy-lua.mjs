// Copies the stores' Lua scripts next to the compiled modules: `tsc` emits only JavaScript, and
// `src/stores/redis/scripts.ts` reads `./scripts/*.lua` relative to itself at load time.
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';

const from = new URL('../src/stores/redis/scripts/', import.meta.url);
const to = new URL('../dist/stores/redis/scripts/', import.meta.url);

mkdirSync(to, { recursive: true });
const files = readdirSync(from).filter((name) => name.endsWith('.lua'));
for (const name of files) copyFileSync(new URL(name, from), new URL(name, to));
console.log(`copy-lua: ${files.length} scripts -> dist/stores/redis/scripts/`);
