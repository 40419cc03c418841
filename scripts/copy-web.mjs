// Copies the consoles' HTML and CSS next to their compiled modules in dist/web/ (`tsc -p
// web/tsconfig.json` emits only the JavaScript). src/http/console.ts serves dist/web/ when the
// service runs compiled.
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';

const from = new URL('../web/', import.meta.url);
const to = new URL('../dist/web/', import.meta.url);

let copied = 0;
for (const dir of readdirSync(from, { withFileTypes: true }).filter((d) => d.isDirectory())) {
  const sub = `${dir.name}/`;
  mkdirSync(new URL(sub, to), { recursive: true });
  for (const name of readdirSync(new URL(sub, from)).filter(
    (n) => n.endsWith('.html') || n.endsWith('.css'),
  )) {
    copyFileSync(new URL(sub + name, from), new URL(sub + name, to));
    copied++;
  }
}
console.log(`copy-web: ${copied} files -> dist/web/`);
