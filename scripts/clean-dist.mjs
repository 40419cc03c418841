// Empties dist/ before a build, so files whose source was removed or renamed never reach the
// package (`tsc` only adds and overwrites).
import { rmSync } from 'node:fs';

rmSync(new URL('../dist/', import.meta.url), { recursive: true, force: true });
