/**
 * The JWT service: `createJwtService` lives in `./jwt/service.ts` (claims and minting in
 * `./jwt/claims.ts`, the verified-token cache in `./jwt/verified-cache.ts`, refresh rotation in
 * `./jwt/rotation.ts`). This module keeps the import path the package and its users know.
 */
export { createJwtService } from './jwt/service.js';
