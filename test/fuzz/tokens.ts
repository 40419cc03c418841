/**
 * Hostile token strings for the fuzzer, as recipes (plain data, so fast-check can shrink them)
 * resolved against the credentials of the moment: mutations of genuine tokens (truncated, bits
 * flipped, segments moved, non-canonical or standard base64, invalid UTF-8, re-headed with
 * `alg: none`, HS/RS confusion, `kid` tricks), forgeries (any header, claims patched, signed with
 * nothing, garbage, a foreign key, or an HMAC keyed with a public key), and plain junk.
 *
 * A forgery signed with a genuine key of the ring is a genuine token by definition; those always
 * carry a fatal claim (expired, revoked jti, ended session…), so none of them may be accepted.
 */
import { createHmac, createPrivateKey, createPublicKey, sign as cryptoSign } from 'node:crypto';
import fc from 'fast-check';

/** Key material of the fuzzed service (see world.ts). */
export interface KeyMaterial {
  ed: { kid: string; privateKeyPem: string; publicKeyPem: string };
  es: { kid: string; privateKeyPem: string; publicKeyPem: string };
  hs: { kid: string; secret: string };
  foreignEd: { privateKeyPem: string; publicKeyPem: string };
  foreignEs: { privateKeyPem: string; publicKeyPem: string };
}

/** What a token recipe can be built from. */
export interface TokenPools {
  /** The case's victim: its access tokens (newest last) and refresh tokens. */
  victimAccess: readonly string[];
  victimRefresh: readonly string[];
  /** Long-lived bystander credentials. */
  bystanderAccess: readonly string[];
  bystanderRefresh: readonly string[];
  /** Revoked, expired, not-yet-valid, reused, ended: never acceptable. */
  deadAccess: readonly string[];
  deadRefresh: readonly string[];
  /** Claims that make any token fail (revoked jti, ended session, revoked family, user watermark). */
  fatalRefs: { revokedJti: string; revokedJtiSub: string; endedSid: string; endedSidSub: string };
  fatalRefs2: { revokedFid: string; revokedFidSub: string; watermarkedSub: string };
  keys: KeyMaterial;
  issuer: string;
  audience: string;
  nowSeconds: number;
}

export type Who = 'victim' | 'bystander' | 'dead';
export interface BaseRef {
  who: Who;
  kind: 'access' | 'refresh';
  index: number;
}

export type MutOp =
  | { op: 'truncate'; at: number }
  | { op: 'flip'; at: number; ch: string }
  | { op: 'insert'; at: number; s: string }
  | { op: 'delete'; at: number; n: number }
  | { op: 'segments'; how: SegmentHow }
  | { op: 'affix'; s: string; end: boolean }
  | { op: 'case'; upper: boolean }
  | { op: 'b64std' }
  | { op: 'noncanonical'; segment: number }
  | { op: 'sigbit'; at: number; bit: number }
  | { op: 'reheader'; header: HeaderRecipe }
  | { op: 'badutf8'; segment: number; bytes: number[] }
  | { op: 'es-malleate' };

export type SegmentHow =
  | 'drop-sig'
  | 'drop-payload'
  | 'swap-head-payload'
  | 'dup-payload'
  | 'extra-segment'
  | 'empty-sig'
  | 'empty-head'
  | 'five-segments'
  | 'only-dots';

export type JsonLike = null | boolean | number | string | JsonLike[] | { [k: string]: JsonLike };

export interface HeaderRecipe {
  alg: JsonLike | undefined;
  kid: JsonLike | undefined;
  extra: Record<string, JsonLike>;
}

export type ClaimPatch = { claim: string; value: JsonLike | undefined } | { raw: string; value: string };

export type Fatal =
  | 'exp-past'
  | 'exp-missing'
  | 'exp-string'
  | 'exp-infinite'
  | 'iat-future'
  | 'nbf-future'
  | 'iss-wrong'
  | 'aud-wrong'
  | 'sub-missing'
  | 'sub-bad'
  | 'jti-missing'
  | 'jti-bad'
  | 'sid-bad'
  | 'iat_ms-mismatch'
  | 'jti-revoked'
  | 'sid-ended'
  | 'fid-revoked'
  | 'before-watermark';

export type SigRecipe =
  | { sig: 'keep' }
  | { sig: 'empty' }
  | { sig: 'random'; bytes: number[] }
  | { sig: 'hmac'; key: HmacKey }
  | { sig: 'foreign-ed' }
  | { sig: 'foreign-es' }
  | { sig: 'genuine'; key: 'ed' | 'es' | 'hs' };

/** Every published form of the EdDSA and ES256 public keys, as an HMAC key (HS/RS confusion). */
export const PUBLIC_KEY_FORMS = [
  'ed-pem',
  'ed-der',
  'ed-jwk-x',
  'ed-raw',
  'es-pem',
  'es-der',
  'es-jwk-xy',
] as const;

export type HmacKey = (typeof PUBLIC_KEY_FORMS)[number] | 'hs-secret' | 'empty' | 'kid';

export type TokenRecipe =
  | { t: 'exact'; base: BaseRef }
  | { t: 'mutate'; base: BaseRef; ops: MutOp[] }
  | {
      t: 'forge';
      base: BaseRef;
      header: HeaderRecipe;
      patches: ClaimPatch[];
      fatal: Fatal | null;
      sig: SigRecipe;
    }
  | { t: 'junk'; value: string };

// ---------------------------------------------------------------------------------------------
// Arbitraries

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const frac = fc.double({ min: 0, max: 1, noNaN: true });
/** Characters that matter: key separators, globs, hash tags, whitespace, controls, quotes. */
export const NASTY_CHARS = [
  '*',
  '?',
  '[',
  ']',
  ':',
  '{',
  '}',
  '\n',
  '\r',
  '\0',
  '\t',
  ' ',
  '/',
  '\\',
  '%',
  '.',
  '=',
  '+',
  '"',
  "'",
  '<',
  '>',
  '&',
  '#',
  ';',
  ',',
  '\u00e9',
  '\u2028',
  '\ud83d\ude00',
  '\ufeff',
  '\ud800',
];
export const nastyChar = fc.oneof(
  fc.constantFrom(...NASTY_CHARS),
  fc.constantFrom(...B64URL.split('')),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
);
/** Strings mixing hostile characters into plausible text. */
export const nastyString = (maxLength = 40) =>
  fc.oneof(
    fc.array(nastyChar, { maxLength }).map((a) => a.join('')),
    fc.string({ unit: 'binary', maxLength }),
    fc.string({ unit: 'grapheme', maxLength }),
  );

export const baseRef = (whos: readonly Who[] = ['victim', 'bystander', 'dead']): fc.Arbitrary<BaseRef> =>
  fc.record({
    who: fc.constantFrom(...whos),
    kind: fc.constantFrom('access' as const, 'refresh' as const),
    index: fc.nat(63),
  });

export const accessRef = (whos: readonly Who[] = ['victim', 'bystander', 'dead']): fc.Arbitrary<BaseRef> =>
  fc.record({ who: fc.constantFrom(...whos), kind: fc.constant('access' as const), index: fc.nat(63) });

/** `alg` values: real, confusable, none, wrong types. */
export const algValue: fc.Arbitrary<JsonLike | undefined> = fc.oneof(
  fc.constantFrom<JsonLike | undefined>(
    'none',
    'None',
    'NONE',
    'nOnE',
    'HS256',
    'HS384',
    'HS512',
    'RS256',
    'PS256',
    'ES256',
    'ES384',
    'ES256K',
    'EdDSA',
    'Ed25519',
    'eddsa',
    ' EdDSA',
    'EdDSA\u0000',
    '',
    null,
    0,
    1,
    true,
    ['HS256'],
    { alg: 'HS256' },
    undefined,
  ),
  nastyString(12),
);

/** `kid` values: ours, traversal, SQL-ish, huge, wrong types, prototype names. */
export const kidValue = (_keys: () => KeyMaterial): fc.Arbitrary<JsonLike | undefined> =>
  fc.oneof(
    fc.constantFrom<JsonLike | undefined>(
      '@ed',
      '@es',
      '@hs',
      '../../../../etc/passwd',
      '..\\..\\windows\\win.ini',
      '/dev/null',
      'file:///etc/passwd',
      '%2e%2e%2f%2e%2e%2fetc%2fpasswd',
      "' OR '1'='1",
      '1; DROP TABLE keys; --',
      '" OR ""="',
      '$' + '{jndi:ldap://x/a}',
      '__proto__',
      'constructor',
      'toString',
      'hasOwnProperty',
      '',
      ' ',
      null,
      0,
      -1,
      1e308,
      true,
      [],
      ['@ed'],
      {},
      { kid: '@ed' },
      undefined,
    ),
    fc.nat({ max: 20_000 }).map((n) => 'k'.repeat(n)),
    fc
      .constantFrom('@ed', '@es', '@hs')
      .chain((k) =>
        fc.constantFrom(`${k}\u0000`, `${k} `, `${k}\n`, `${k}/../${k}`, `${k}.`, k.toUpperCase()),
      ),
    nastyString(20),
  );

export const headerRecipe = (keys: () => KeyMaterial): fc.Arbitrary<HeaderRecipe> =>
  fc.record({
    alg: algValue,
    kid: kidValue(keys),
    extra: fc.oneof(
      { weight: 4, arbitrary: fc.constant({}) },
      fc.dictionary(
        fc.constantFrom('typ', 'crit', 'jku', 'jwk', 'x5u', 'x5c', 'b64', 'zip', 'enc', 'cty', '__proto__'),
        fc.constantFrom<JsonLike>(
          'JWT',
          'at+jwt',
          ['exp'],
          [],
          'https://attacker.example/jwks.json',
          { kty: 'OKP', crv: 'Ed25519', x: 'AAAA' },
          false,
          'DEF',
          'A256GCM',
          null,
        ),
        { maxKeys: 3 },
      ),
    ),
  });

const claimNames = fc.constantFrom(
  'sub',
  'jti',
  'sid',
  'fid',
  'iss',
  'aud',
  'exp',
  'iat',
  'nbf',
  'iat_ms',
  'email',
  'roles',
  'scope',
  'permissions',
  '__proto__',
  'constructor',
  'admin',
);
const claimValue: fc.Arbitrary<JsonLike | undefined> = fc.oneof(
  fc.constantFrom<JsonLike | undefined>(
    undefined,
    null,
    '',
    0,
    -1,
    1.5,
    2 ** 53 + 1,
    1e308,
    -1e308,
    true,
    [],
    {},
    ['optix'],
    ['admin'],
    { sub: 'admin' },
  ),
  nastyString(30),
  fc.integer(),
);

export const claimPatch: fc.Arbitrary<ClaimPatch> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ claim: claimNames, value: claimValue }) },
  fc.record({
    raw: fc.constantFrom('exp', 'iat', 'nbf', 'iat_ms'),
    value: fc.constantFrom('1e400', '-1e400', '1e-400', '0.0000001', '9999999999999999999999', '-0', '1E3'),
  }),
);

export const fatal: fc.Arbitrary<Fatal> = fc.constantFrom(
  'exp-past',
  'exp-missing',
  'exp-string',
  'exp-infinite',
  'iat-future',
  'nbf-future',
  'iss-wrong',
  'aud-wrong',
  'sub-missing',
  'sub-bad',
  'jti-missing',
  'jti-bad',
  'sid-bad',
  'iat_ms-mismatch',
  'jti-revoked',
  'sid-ended',
  'fid-revoked',
  'before-watermark',
);

export const sigRecipe: fc.Arbitrary<SigRecipe> = fc.oneof(
  fc.constant({ sig: 'keep' as const }),
  fc.constant({ sig: 'empty' as const }),
  fc.record({ sig: fc.constant('random' as const), bytes: fc.array(fc.nat(255), { maxLength: 80 }) }),
  {
    weight: 3,
    arbitrary: fc.record({
      sig: fc.constant('hmac' as const),
      key: fc.constantFrom<HmacKey>(...PUBLIC_KEY_FORMS, 'hs-secret', 'empty', 'kid'),
    }),
  },
  fc.constant({ sig: 'foreign-ed' as const }),
  fc.constant({ sig: 'foreign-es' as const }),
  {
    weight: 2,
    arbitrary: fc.record({ sig: fc.constant('genuine' as const), key: fc.constantFrom('ed', 'es', 'hs') }),
  },
);

export const mutOp = (keys: () => KeyMaterial): fc.Arbitrary<MutOp> =>
  fc.oneof(
    fc.record({ op: fc.constant('truncate' as const), at: frac }),
    { weight: 3, arbitrary: fc.record({ op: fc.constant('flip' as const), at: frac, ch: nastyChar }) },
    fc.record({ op: fc.constant('insert' as const), at: frac, s: nastyString(8) }),
    fc.record({ op: fc.constant('delete' as const), at: frac, n: fc.integer({ min: 1, max: 8 }) }),
    fc.record({
      op: fc.constant('segments' as const),
      how: fc.constantFrom<SegmentHow>(
        'drop-sig',
        'drop-payload',
        'swap-head-payload',
        'dup-payload',
        'extra-segment',
        'empty-sig',
        'empty-head',
        'five-segments',
        'only-dots',
      ),
    }),
    fc.record({
      op: fc.constant('affix' as const),
      s: fc.constantFrom(' ', '\t', '\n', '\0', '=', '==', '.', '%20', 'Bearer ', '"', '\ufeff'),
      end: fc.boolean(),
    }),
    fc.record({ op: fc.constant('case' as const), upper: fc.boolean() }),
    fc.constant({ op: 'b64std' as const }),
    fc.record({ op: fc.constant('noncanonical' as const), segment: fc.nat(2) }),
    { weight: 2, arbitrary: fc.record({ op: fc.constant('sigbit' as const), at: frac, bit: fc.nat(7) }) },
    { weight: 3, arbitrary: fc.record({ op: fc.constant('reheader' as const), header: headerRecipe(keys) }) },
    fc.record({
      op: fc.constant('badutf8' as const),
      segment: fc.nat(1),
      bytes: fc.array(fc.constantFrom(0xff, 0xfe, 0xc0, 0xc1, 0x80, 0xed, 0xa0, 0xf8, 0xf4, 0x90), {
        minLength: 1,
        maxLength: 4,
      }),
    }),
    fc.constant({ op: 'es-malleate' as const }),
  );

/** Junk that is not derived from any genuine token. */
export const junkToken: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '',
    '.',
    '..',
    '...',
    'a.b.c',
    'eyJ.eyJ.',
    'eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiJ9.',
    'eyJhbGciOiJub25lIn0.e30.',
    'null',
    'undefined',
    '[object Object]',
    'Bearer',
    '\u0000',
    ' ',
  ),
  nastyString(60),
  fc.array(fc.base64String({ maxLength: 40 }), { minLength: 1, maxLength: 5 }).map((a) => a.join('.')),
  fc.integer({ min: 8100, max: 9000 }).map((n) => 'a'.repeat(n)),
  fc.integer({ min: 8100, max: 9000 }).map((n) => `${'eyJ'.padEnd(n / 3, 'A')}.${'A'.repeat(n / 3)}.x`),
);

/** Any token recipe; `whos` limits the genuine credentials it may start from. */
export const tokenRecipe = (
  keys: () => KeyMaterial,
  options: { whos?: readonly Who[]; kind?: 'access' | 'refresh' | 'any'; exact?: readonly Who[] } = {},
): fc.Arbitrary<TokenRecipe> => {
  const whos = options.whos ?? ['victim', 'bystander', 'dead'];
  const ref =
    options.kind === 'access'
      ? accessRef(whos)
      : options.kind === 'refresh'
        ? fc.record({
            who: fc.constantFrom(...whos),
            kind: fc.constant('refresh' as const),
            index: fc.nat(63),
          })
        : baseRef(whos);
  const exactWhos = options.exact ?? [];
  const arbs: Array<fc.WeightedArbitrary<TokenRecipe>> = [
    {
      weight: 6,
      arbitrary: fc.record({
        t: fc.constant('mutate' as const),
        base: ref,
        ops: fc.array(mutOp(keys), { minLength: 1, maxLength: 3 }),
      }),
    },
    {
      weight: 4,
      arbitrary: fc.record({
        t: fc.constant('forge' as const),
        base: accessRef(whos),
        header: headerRecipe(keys),
        patches: fc.array(claimPatch, { maxLength: 3 }),
        fatal: fc.option(fatal, { nil: null }),
        sig: sigRecipe,
      }),
    },
    { weight: 2, arbitrary: fc.record({ t: fc.constant('junk' as const), value: junkToken }) },
  ];
  if (exactWhos.length > 0) {
    const exactRef =
      options.kind === 'access'
        ? accessRef(exactWhos)
        : options.kind === 'refresh'
          ? fc.record({
              who: fc.constantFrom(...exactWhos),
              kind: fc.constant('refresh' as const),
              index: fc.nat(63),
            })
          : baseRef(exactWhos);
    arbs.push({ weight: 3, arbitrary: fc.record({ t: fc.constant('exact' as const), base: exactRef }) });
  }
  return fc.oneof(...arbs);
};

// ---------------------------------------------------------------------------------------------
// Resolution

const b64 = (v: string | Buffer) => Buffer.from(v).toString('base64url');
const b64json = (v: unknown) => b64(JSON.stringify(v));

/** The part of a JWT that names a credential: header and payload (signature variants are equal). */
export function identity(token: string): string {
  const parts = token.split('.');
  return parts.length === 3 ? `${parts[0]}.${parts[1]}` : token;
}

function pick<T>(list: readonly T[], index: number): T | undefined {
  return list.length === 0 ? undefined : list[index % list.length];
}

export function resolveBase(ref: BaseRef, pools: TokenPools): string {
  const lists = {
    victim: { access: pools.victimAccess, refresh: pools.victimRefresh },
    bystander: { access: pools.bystanderAccess, refresh: pools.bystanderRefresh },
    dead: { access: pools.deadAccess, refresh: pools.deadRefresh },
  } as const;
  return pick(lists[ref.who][ref.kind], ref.index) ?? pick(pools.deadAccess, ref.index) ?? 'x.y.z';
}

/** `@ed`, `@es`, `@hs` at the start of a kid stand for the ring's kids (`@ED`: upper-cased). */
function resolveKid(kid: JsonLike | undefined, keys: KeyMaterial): JsonLike | undefined {
  if (Array.isArray(kid)) return kid.map((k) => resolveKid(k, keys) ?? null);
  if (typeof kid !== 'string') return kid;
  return kid.replace(/^@(ed|es|hs|ED|ES|HS)/, (_m, k: string) => {
    const real = keys[k.toLowerCase() as 'ed' | 'es' | 'hs'].kid;
    return k === k.toUpperCase() ? real.toUpperCase() : real;
  });
}

function headerJson(h: HeaderRecipe, keys: KeyMaterial): string {
  const out: Record<string, JsonLike> = {};
  if (h.alg !== undefined) out.alg = h.alg;
  const kid = resolveKid(h.kid, keys);
  if (kid !== undefined) out.kid = kid;
  for (const [k, v] of Object.entries(h.extra)) {
    if (k === '__proto__') continue; // JSON below adds it as a literal key
    out[k] = v;
  }
  let json = JSON.stringify(out);
  if ('__proto__' in h.extra && Object.hasOwn(h.extra, '__proto__')) {
    json = `${json.slice(0, -1)}${json.length > 2 ? ',' : ''}"__proto__":${JSON.stringify(Object.getOwnPropertyDescriptor(h.extra, '__proto__')?.value)}}`;
  }
  return json;
}

function decodePayload(token: string): Record<string, unknown> {
  try {
    const value = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'));
    return value && typeof value === 'object' && !Array.isArray(value) ? value : {};
  } catch {
    return {};
  }
}

function applyFatal(claims: Record<string, unknown>, f: Fatal, pools: TokenPools): string[] {
  const now = pools.nowSeconds;
  const raws: string[] = [];
  switch (f) {
    case 'exp-past':
      // Past any clock tolerance the service accepts (at most 300 s).
      claims.exp = now - 301 - (Number(claims.exp) % 7 || 0);
      break;
    case 'exp-missing':
      delete claims.exp;
      break;
    case 'exp-string':
      claims.exp = String(now + 600);
      break;
    case 'exp-infinite':
      delete claims.exp;
      raws.push('"exp":1e400');
      break;
    case 'iat-future':
      claims.iat = now + 3600;
      claims.iat_ms = (now + 3600) * 1000;
      break;
    case 'nbf-future':
      claims.nbf = now + 3600;
      break;
    case 'iss-wrong':
      claims.iss = `${pools.issuer}-evil`;
      break;
    case 'aud-wrong':
      claims.aud = [`${pools.audience}x`, 'other'];
      break;
    case 'sub-missing':
      delete claims.sub;
      break;
    case 'sub-bad':
      claims.sub = 'user:*{admin}\n';
      break;
    case 'jti-missing':
      delete claims.jti;
      break;
    case 'jti-bad':
      claims.jti = '../jti*';
      break;
    case 'sid-bad':
      claims.sid = 'session:{x}';
      break;
    case 'iat_ms-mismatch':
      claims.iat_ms = Number(claims.iat) * 1000 + 5000;
      break;
    case 'jti-revoked':
      claims.jti = pools.fatalRefs.revokedJti;
      claims.sub = pools.fatalRefs.revokedJtiSub;
      break;
    case 'sid-ended':
      claims.sid = pools.fatalRefs.endedSid;
      claims.sub = pools.fatalRefs.endedSidSub;
      break;
    case 'fid-revoked':
      claims.fid = pools.fatalRefs2.revokedFid;
      claims.sub = pools.fatalRefs2.revokedFidSub;
      delete claims.sid;
      break;
    case 'before-watermark':
      // Issued a minute before the user's "revoke everything" (the world sets it last).
      claims.sub = pools.fatalRefs2.watermarkedSub;
      claims.iat = now - 60;
      claims.iat_ms = (now - 60) * 1000;
      // Minted before the user's revoke-all: under no generation (the legacy rule) or an older one.
      if (typeof claims.ugen === 'number') claims.ugen = 0;
      delete claims.sid;
      delete claims.fid;
      break;
  }
  return raws;
}

function payloadJson(claims: Record<string, unknown>, raws: string[]): string {
  let json = JSON.stringify(claims);
  for (const raw of raws) json = `${json.slice(0, -1)}${json.length > 2 ? ',' : ''}${raw}}`;
  return json;
}

const derCache = new Map<string, Buffer>();
function hmacKey(key: HmacKey, keys: KeyMaterial, kid: string): Buffer {
  const cached = derCache.get(`${key}:${kid}`);
  if (cached) return cached;
  let out: Buffer;
  switch (key) {
    case 'ed-pem':
      out = Buffer.from(keys.ed.publicKeyPem);
      break;
    case 'es-pem':
      out = Buffer.from(keys.es.publicKeyPem);
      break;
    case 'ed-der':
      out = createPublicKey(keys.ed.publicKeyPem).export({ type: 'spki', format: 'der' });
      break;
    case 'es-der':
      out = createPublicKey(keys.es.publicKeyPem).export({ type: 'spki', format: 'der' });
      break;
    case 'ed-jwk-x': {
      const jwk = createPublicKey(keys.ed.publicKeyPem).export({ format: 'jwk' });
      out = Buffer.from(String(jwk.x));
      break;
    }
    case 'ed-raw': {
      const jwk = createPublicKey(keys.ed.publicKeyPem).export({ format: 'jwk' });
      out = Buffer.from(String(jwk.x), 'base64url');
      break;
    }
    case 'es-jwk-xy': {
      const jwk = createPublicKey(keys.es.publicKeyPem).export({ format: 'jwk' });
      out = Buffer.from(JSON.stringify(jwk));
      break;
    }
    case 'hs-secret':
      out = Buffer.from(keys.hs.secret);
      break;
    case 'empty':
      out = Buffer.alloc(0);
      break;
    case 'kid':
      out = Buffer.from(kid);
      break;
  }
  derCache.set(`${key}:${kid}`, out);
  return out;
}

const keyCache = new Map<string, ReturnType<typeof createPrivateKey>>();
function privateKey(pem: string) {
  let key = keyCache.get(pem);
  if (!key) {
    key = createPrivateKey(pem);
    keyCache.set(pem, key);
  }
  return key;
}

function signWith(recipe: SigRecipe, data: string, keys: KeyMaterial, kid: string, base: string): string {
  switch (recipe.sig) {
    case 'keep':
      return base.split('.')[2] ?? '';
    case 'empty':
      return '';
    case 'random':
      return b64(Buffer.from(recipe.bytes));
    case 'hmac':
      return createHmac('sha256', hmacKey(recipe.key, keys, kid))
        .update(data)
        .digest('base64url');
    case 'foreign-ed':
      return cryptoSign(null, Buffer.from(data), privateKey(keys.foreignEd.privateKeyPem)).toString(
        'base64url',
      );
    case 'foreign-es':
      return cryptoSign('sha256', Buffer.from(data), {
        key: privateKey(keys.foreignEs.privateKeyPem),
        dsaEncoding: 'ieee-p1363',
      }).toString('base64url');
    case 'genuine':
      if (recipe.key === 'hs')
        return createHmac('sha256', Buffer.from(keys.hs.secret)).update(data).digest('base64url');
      if (recipe.key === 'ed')
        return cryptoSign(null, Buffer.from(data), privateKey(keys.ed.privateKeyPem)).toString('base64url');
      return cryptoSign('sha256', Buffer.from(data), {
        key: privateKey(keys.es.privateKeyPem),
        dsaEncoding: 'ieee-p1363',
      }).toString('base64url');
  }
}

/** P-256 group order, for the malleated twin (r, n - s) of an ES256 signature. */
const P256_N = BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551');

function esMalleate(token: string): string {
  const parts = token.split('.');
  const sig = Buffer.from(parts[2] ?? '', 'base64url');
  if (parts.length !== 3 || sig.length !== 64) return token;
  const s = BigInt(`0x${sig.subarray(32).toString('hex')}`);
  const twin = Buffer.from((P256_N - s).toString(16).padStart(64, '0'), 'hex');
  return `${parts[0]}.${parts[1]}.${Buffer.concat([sig.subarray(0, 32), twin]).toString('base64url')}`;
}

function at(s: string, f: number): number {
  return Math.min(s.length, Math.floor(f * (s.length + 1)));
}

function mutate(token: string, op: MutOp, pools: TokenPools): string {
  const parts = token.split('.');
  switch (op.op) {
    case 'truncate':
      return token.slice(0, at(token, op.at));
    case 'flip': {
      const i = Math.min(at(token, op.at), Math.max(0, token.length - 1));
      return token.slice(0, i) + op.ch + token.slice(i + 1);
    }
    case 'insert': {
      const i = at(token, op.at);
      return token.slice(0, i) + op.s + token.slice(i);
    }
    case 'delete': {
      const i = at(token, op.at);
      return token.slice(0, i) + token.slice(i + op.n);
    }
    case 'segments':
      switch (op.how) {
        case 'drop-sig':
          return parts.slice(0, 2).join('.');
        case 'drop-payload':
          return [parts[0], parts[2]].join('.');
        case 'swap-head-payload':
          return [parts[1], parts[0], ...parts.slice(2)].join('.');
        case 'dup-payload':
          return [parts[0], parts[1], parts[1], ...parts.slice(2)].join('.');
        case 'extra-segment':
          return `${token}.${parts[2] ?? 'x'}`;
        case 'empty-sig':
          return `${parts.slice(0, 2).join('.')}.`;
        case 'empty-head':
          return `.${parts.slice(1).join('.')}`;
        case 'five-segments':
          return `${token}.AAAA.BBBB`;
        case 'only-dots':
          return token.replace(/[^.]/g, '');
      }
      return token;
    case 'affix':
      return op.end ? token + op.s : op.s + token;
    case 'case':
      return op.upper ? token.toUpperCase() : token.toLowerCase();
    case 'b64std':
      return token.replace(/-/g, '+').replace(/_/g, '/') + (token.length % 4 === 0 ? '' : '=');
    case 'noncanonical': {
      const i = Math.min(op.segment, parts.length - 1);
      const seg = parts[i] ?? '';
      const bytes = Buffer.from(seg, 'base64url');
      // Set the unused low bits of the last character: same bytes, another spelling.
      const spare = [0, 0, 4, 2][seg.length % 4] ?? 0;
      if (spare === 0 || seg.length === 0) return `${token}A`;
      const last = B64URL.indexOf(seg[seg.length - 1]!);
      const variant = B64URL[last | ((1 << spare) - 1)]!;
      if (bytes.toString('base64url') !== seg) return `${token}A`;
      parts[i] = seg.slice(0, -1) + variant;
      const out = parts.join('.');
      return out === token ? `${token}A` : out;
    }
    case 'sigbit': {
      const sig = Buffer.from(parts[2] ?? '', 'base64url');
      if (sig.length === 0) return `${token}A`;
      const i = Math.min(sig.length - 1, Math.floor(op.at * sig.length));
      sig[i] = sig[i]! ^ (1 << op.bit);
      parts[2] = sig.toString('base64url');
      return parts.join('.');
    }
    case 'reheader':
      return [b64(headerJson(op.header, pools.keys)), ...parts.slice(1)].join('.');
    case 'badutf8': {
      const i = Math.min(op.segment, parts.length - 1);
      const raw = Buffer.from(parts[i] ?? '', 'base64url');
      const cut = Math.floor(raw.length / 2);
      parts[i] = Buffer.concat([raw.subarray(0, cut), Buffer.from(op.bytes), raw.subarray(cut)]).toString(
        'base64url',
      );
      return parts.join('.');
    }
    case 'es-malleate':
      return esMalleate(token);
  }
}

/** Is this header the canonical one of a ring key (so a genuine signature would verify)? */
function canonicalFor(header: Record<string, unknown>, keys: KeyMaterial): 'ed' | 'es' | 'hs' | null {
  if (header.crit !== undefined) return null;
  if (header.alg === 'EdDSA' && header.kid === keys.ed.kid) return 'ed';
  if (header.alg === 'ES256' && header.kid === keys.es.kid) return 'es';
  if (header.alg === 'HS256' && header.kid === keys.hs.kid) return 'hs';
  return null;
}

/**
 * The token string of a recipe. Mutations never give back their base unchanged (a no-op would be
 * the genuine token): one that would is made different by appending a character.
 */
export function resolveToken(recipe: TokenRecipe, pools: TokenPools): string {
  switch (recipe.t) {
    case 'exact':
      return resolveBase(recipe.base, pools);
    case 'junk':
      return recipe.value;
    case 'mutate': {
      const base = resolveBase(recipe.base, pools);
      let out = base;
      for (const op of recipe.ops) out = mutate(out, op, pools);
      if (out === base) out = `${base}A`;
      // Another spelling of a bystander's signature (ES256 (r, n − s)) would still be its token.
      if (recipe.base.who === 'bystander' && identity(out) === identity(base)) out = `${out}A`;
      return out;
    }
    case 'forge': {
      const base = resolveBase(recipe.base, pools);
      const headerText = headerJson(recipe.header, pools.keys);
      let header: Record<string, unknown> = {};
      try {
        header = JSON.parse(headerText) as Record<string, unknown>;
      } catch {
        header = {};
      }
      const claims = decodePayload(base);
      const raws: string[] = [];
      for (const patch of recipe.patches) {
        if ('raw' in patch) {
          delete claims[patch.raw];
          raws.push(`"${patch.raw}":${patch.value}`);
        } else if (patch.value === undefined) delete claims[patch.claim];
        else if (patch.claim === '__proto__') raws.push(`"__proto__":${JSON.stringify(patch.value)}`);
        else claims[patch.claim] = patch.value;
      }
      let fatalClaim = recipe.fatal;
      // A genuine signature over a header its key accepts makes a genuine token: only with a fatal claim.
      const genuineKey = recipe.sig.sig === 'genuine' ? recipe.sig.key : null;
      if (genuineKey !== null && canonicalFor(header, pools.keys) === genuineKey && fatalClaim === null) {
        fatalClaim = 'exp-past';
      }
      // The fatal claim is written last and wins (raw duplicates, parsed last, would override it).
      if (fatalClaim !== null) raws.splice(0, raws.length, ...applyFatal(claims, fatalClaim, pools));
      const data = `${b64(headerText)}.${b64(payloadJson(claims, raws))}`;
      const kid = typeof header.kid === 'string' ? header.kid : '';
      const out = `${data}.${signWith(recipe.sig, data, pools.keys, kid, base)}`;
      return identity(out) === identity(base) ? `${out}A` : out;
    }
  }
}

/** A recipe built by hand (explicit cases in the test files). */
export function forged(
  header: HeaderRecipe,
  sig: SigRecipe,
  options: { patches?: ClaimPatch[]; fatal?: Fatal | null; base?: BaseRef } = {},
): TokenRecipe {
  return {
    t: 'forge',
    base: options.base ?? { who: 'victim', kind: 'access', index: 0 },
    header,
    patches: options.patches ?? [],
    fatal: options.fatal ?? null,
    sig,
  };
}

export { b64json };
