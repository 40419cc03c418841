// Copies the stores' Lua scripts next to the compiled modules: `tsc` emits only JavaScript, and
// `src/stores/redis/lua/index.ts` reads `./scripts/*.lua` relative to itself at load time.
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';

const from = new URL('../src/stores/redis/lua/', import.meta.url);
const to = new URL('../dist/stores/redis/lua/', import.meta.url);

// Scripts, and the helpers they include (`-- #include <lib>` → `lib/<lib>.lua`).
let copied = 0;
for (const dir of ['', 'lib/']) {
  mkdirSync(new URL(dir, to), { recursive: true });
  for (const name of readdirSync(new URL(dir, from)).filter((n) => n.endsWith('.lua'))) {
    copyFileSync(new URL(dir + name, from), new URL(dir + name, to));
    copied++;
  }
}
console.log(`copy-lua: ${copied} files -> dist/stores/redis/lua/`);
