/**
 * Recipes: fast-check arbitraries for one fuzz case, as plain data (which party's id, which
 * credential, which hostile change) that `cases.ts` turns into requests and calls.
 */
import fc from 'fast-check';
import { ROUTES } from './routes.js';
import {
  type JsonLike,
  type KeyMaterial,
  type MutOp,
  mutOp,
  nastyString,
  type TokenRecipe,
  tokenRecipe,
} from './tokens.js';
import type { Alg } from './world.js';

export type Party = 'victim' | 'bystander' | 'dead' | 'fresh';
export type Enc = 'component' | 'loose' | 'double' | 'badpct';

export type ParamRecipe =
  | { k: 'ref'; party: Party; index: number; enc: Enc }
  | { k: 'mutate'; party: Party; index: number; ops: MutOp[]; enc: Enc }
  | { k: 'value'; value: string; enc: Enc }
  | { k: 'long'; n: number };

type AuthRecipe =
  | { k: 'none' }
  | { k: 'service'; which: 0 | 1; scheme: string; trail: string }
  | { k: 'token'; token: TokenRecipe; scheme: string; trail: string }
  | { k: 'raw'; value: string }
  | { k: 'multi'; values: string[] };

type FieldValue = { k: 'token'; token: TokenRecipe } | { k: 'json'; value: JsonLike };

export type RawBody =
  | { k: 'json'; value: JsonLike }
  | { k: 'text'; value: string }
  | { k: 'bytes'; bytes: number[] }
  | { k: 'deep'; depth: number; shape: 'array' | 'object' | 'proto' | 'string' }
  | { k: 'huge'; n: number; json: boolean };

export type HttpMutation =
  | { m: 'auth'; auth: AuthRecipe }
  | { m: 'param'; param: ParamRecipe }
  | { m: 'query'; pairs: Array<[string, string]>; raw: string | null }
  | { m: 'field'; name: string; value: FieldValue }
  | { m: 'extraField'; name: string; value: JsonLike }
  | { m: 'dropField'; name: string }
  | { m: 'body'; body: RawBody }
  | { m: 'ct'; ct: string }
  | { m: 'encoding'; enc: 'json' | 'form' | 'json-escaped' }
  | { m: 'header'; name: string; value: string }
  | { m: 'method'; method: string }
  | { m: 'path'; suffix: string };

/** The valid request a mutation starts from. */
export interface CleanChoice {
  party: Party;
  index: number;
  /** For token bodies: which credential the body carries. */
  token: { party: 'victim' | 'bystander' | 'dead'; kind: 'access' | 'refresh'; index: number };
  hint: 'access_token' | 'refresh_token' | null;
  serviceKey: 0 | 1;
  optional: number;
  days: number | null;
  query: { since: number | null; until: number | null; limit: number | null };
  enc: 'json' | 'form';
}

export type Action =
  | { a: 'http'; route: number; head: boolean; clean: CleanChoice; mutations: HttpMutation[] }
  | { a: 'verify'; token: TokenRecipe }
  | { a: 'verifyValue'; value: JsonLike }
  | { a: 'refresh'; token: TokenRecipe }
  | { a: 'revokeAccess'; token: TokenRecipe }
  | { a: 'revokeRefresh'; token: TokenRecipe }
  | { a: 'revokeToken'; jti: JtiChoice; userId: IdChoice; ttl: NumValue; reason: JsonLike }
  | { a: 'blacklist'; userId: IdChoice; jtis: JtiChoice[]; ttl: NumValue; reason: JsonLike }
  | { a: 'events'; userId: IdChoice; since: NumValue; until: NumValue; limit: NumValue }
  | { a: 'trust'; userId: IdChoice; fingerprint: JsonLike; name: JsonLike; type: JsonLike; days: NumValue }
  | { a: 'session'; op: 'get' | 'validate' | 'terminate' | 'rotate'; sid: IdChoice; reason: JsonLike }
  | { a: 'config'; name: string; value: string };

type JtiChoice = { k: 'victim'; index: number } | { k: 'value'; value: JsonLike };
export type IdChoice = { k: 'party'; party: Party; index: number } | { k: 'value'; value: JsonLike };
export type NumValue = { k: 'absent' } | { k: 'num'; value: number } | { k: 'other'; value: JsonLike };

export interface CaseRecipe {
  alg: Alg;
  actions: Action[];
}

const party = fc.constantFrom<Party>('victim', 'bystander', 'dead', 'fresh');
const enc = fc.constantFrom<Enc>('component', 'component', 'component', 'loose', 'double', 'badpct');
const jsonLike: fc.Arbitrary<JsonLike> = fc.oneof(
  fc.constantFrom<JsonLike>(null, true, false, 0, -1, 1e308, '', [], {}, [''], { a: null }),
  nastyString(30),
  fc.integer(),
  fc.double({ noDefaultInfinity: true, noNaN: true }),
  fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<JsonLike>,
);

const paramRecipe = (keys: () => KeyMaterial): fc.Arbitrary<ParamRecipe> =>
  fc.oneof(
    fc.record({ k: fc.constant('ref' as const), party, index: fc.nat(15), enc }),
    {
      weight: 2,
      arbitrary: fc.record({
        k: fc.constant('mutate' as const),
        party,
        index: fc.nat(15),
        ops: fc.array(mutOp(keys), { minLength: 1, maxLength: 2 }),
        enc,
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        k: fc.constant('value' as const),
        value: fc.oneof(
          nastyString(40),
          fc.constantFrom(
            '*',
            '?',
            '[a-z]*',
            'a:b',
            '{tag}',
            '{tag}.x',
            'user\n',
            'user\0',
            '..',
            '../..',
            '%00',
            '__proto__',
            'constructor',
            "' OR '1'='1",
            'null',
            ' ',
          ),
        ),
        enc,
      }),
    },
    fc.record({ k: fc.constant('long' as const), n: fc.constantFrom(255, 256, 257, 511, 512, 513, 4096) }),
  );

const scheme = fc.constantFrom(
  'Bearer ',
  'Bearer ',
  'Bearer ',
  'bearer ',
  'BEARER ',
  'Bearer\t',
  'Bearer  ',
  'Basic ',
  'Token ',
  'Bearer',
  '',
  'Bearer: ',
  'Bearer,',
);
const trail = fc.constantFrom('', '', '', ' ', '\t', ' x', '\u00a0', ',', '\n');

const authRecipe = (keys: () => KeyMaterial): fc.Arbitrary<AuthRecipe> =>
  fc.oneof(
    fc.constant({ k: 'none' as const }),
    fc.record({
      k: fc.constant('service' as const),
      which: fc.constantFrom(0 as const, 1 as const),
      scheme,
      trail,
    }),
    {
      weight: 4,
      arbitrary: fc.record({
        k: fc.constant('token' as const),
        // The victim's own token may be used as is; the bystander's only altered.
        token: tokenRecipe(keys, { exact: ['victim', 'dead'] }),
        scheme,
        trail,
      }),
    },
    fc.record({
      k: fc.constant('raw' as const),
      value: fc.oneof(
        nastyString(60),
        fc.nat({ max: 100_000 }).map((n) => `Bearer ${'A'.repeat(n)}`),
        fc.constantFrom('Bearer', 'Bearer ', 'Basic dXNlcjpwYXNz', 'Bearer null', 'Bearer undefined'),
      ),
    }),
    fc.record({
      k: fc.constant('multi' as const),
      values: fc.array(nastyString(20), { minLength: 2, maxLength: 3 }),
    }),
  );

const FIELD_NAMES = [
  'token',
  'token_type_hint',
  'refreshToken',
  'userId',
  'ipAddress',
  'userAgent',
  'email',
  'roles',
  'permissions',
  'deviceFingerprint',
  'deviceId',
  'mfaVerified',
  'deviceName',
  'deviceType',
  'durationDays',
] as const;

const fieldValue = (keys: () => KeyMaterial): fc.Arbitrary<FieldValue> =>
  fc.oneof(
    { weight: 2, arbitrary: fc.record({ k: fc.constant('token' as const), token: tokenRecipe(keys) }) },
    {
      weight: 3,
      arbitrary: fc.record({
        k: fc.constant('json' as const),
        value: fc.oneof(
          jsonLike,
          fc.constantFrom<JsonLike>(
            -1,
            0,
            366,
            1.5,
            2 ** 31,
            2 ** 53,
            -(2 ** 53),
            '30',
            'NaN',
            'Infinity',
            '1e309',
            'a'.repeat(257),
            'a'.repeat(1025),
            'x'.repeat(8193),
            '203.0.113.1\n',
            '::1',
            '1.2.3.4.5.6.7.8.9',
            'not-an-ip',
            'a@b',
            'a@b@c',
            ['admin', ' '],
            Array.from({ length: 65 }, (_, i) => `r${i}`),
          ),
        ),
      }),
    },
  );

const rawBody: fc.Arbitrary<RawBody> = fc.oneof(
  fc.record({ k: fc.constant('json' as const), value: jsonLike }),
  fc.record({
    k: fc.constant('text' as const),
    value: fc.oneof(
      nastyString(80),
      fc.constantFrom(
        '',
        '{',
        '{"token":',
        '{"token":"a"',
        '{"token":"a"}}',
        'null',
        '[]',
        '"token"',
        '{"__proto__":{"admin":true}}',
        '{"constructor":{"prototype":{"admin":true}}}',
        '{"token":"a","token":"b"}',
        '\ufeff{"token":"a"}',
        '{"token":"\\ud800"}',
        '{"token":"\\u0000"}',
        'token=a&token=b',
        'token[]=a',
        'token[a][b]=c',
        '%ZZ=%ZZ',
        '=&&=',
      ),
    ),
  }),
  fc.record({ k: fc.constant('bytes' as const), bytes: fc.array(fc.nat(255), { maxLength: 64 }) }),
  fc.record({
    k: fc.constant('deep' as const),
    depth: fc.oneof(fc.integer({ min: 1, max: 100 }), fc.integer({ min: 1000, max: 8000 })),
    shape: fc.constantFrom('array' as const, 'object' as const, 'proto' as const, 'string' as const),
  }),
  fc.record({
    k: fc.constant('huge' as const),
    n: fc.constantFrom(16_000, 16_384, 16_385, 20_000, 100_000, 1_100_000),
    json: fc.boolean(),
  }),
);

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=latin1',
  'APPLICATION/JSON',
  'application/json;charset=UTF-8',
  'application/x-www-form-urlencoded',
  'application/x-www-form-urlencoded; charset=iso-8859-1',
  'text/plain',
  'text/json',
  'multipart/form-data; boundary=x',
  'application/xml',
  'application/octet-stream',
  'application/merge-patch+json',
  'application/jsonx',
  '',
  ';',
  'application/json, text/plain',
  '*/*',
];

const queryKey = fc.constantFrom(
  'since',
  'until',
  'limit',
  'limit',
  'limit[]',
  'limit[0]',
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  'a[b]',
  '',
  'LIMIT',
  'token',
);
const queryValue = fc.oneof(
  fc.constantFrom(
    '-1',
    '0',
    '1',
    '50',
    '1000',
    '1001',
    'NaN',
    'Infinity',
    '-Infinity',
    '1e309',
    '1e3',
    '1.5',
    ' 1',
    '0x10',
    '9007199254740993',
    '99999999999999999999999',
    '',
    'abc',
    '-0',
    '+1',
    '１',
  ),
  nastyString(20),
  fc.integer().map(String),
);

const httpMutation = (keys: () => KeyMaterial): fc.Arbitrary<HttpMutation> =>
  fc.oneof(
    { weight: 4, arbitrary: fc.record({ m: fc.constant('auth' as const), auth: authRecipe(keys) }) },
    { weight: 3, arbitrary: fc.record({ m: fc.constant('param' as const), param: paramRecipe(keys) }) },
    {
      weight: 2,
      arbitrary: fc.record({
        m: fc.constant('query' as const),
        pairs: fc.array(fc.tuple(queryKey, queryValue), { minLength: 1, maxLength: 4 }),
        raw: fc.option(
          fc.oneof(
            nastyString(30),
            fc.constantFrom(
              '&&&',
              '=',
              '?',
              'limit',
              'limit=',
              '%',
              '%zz',
              'a=1&a=2&a=3',
              'x'.repeat(10_000),
            ),
          ),
          { nil: null },
        ),
      }),
    },
    {
      weight: 4,
      arbitrary: fc.record({
        m: fc.constant('field' as const),
        name: fc.constantFrom(...FIELD_NAMES),
        value: fieldValue(keys),
      }),
    },
    fc.record({
      m: fc.constant('extraField' as const),
      name: fc.oneof(
        fc.constantFrom(
          'foo',
          'token ',
          'TOKEN',
          'refresh_token',
          'access_token',
          'client_id',
          'constructor',
          '',
        ),
        nastyString(10),
      ),
      value: jsonLike,
    }),
    fc.record({ m: fc.constant('dropField' as const), name: fc.constantFrom(...FIELD_NAMES) }),
    { weight: 3, arbitrary: fc.record({ m: fc.constant('body' as const), body: rawBody }) },
    {
      weight: 2,
      arbitrary: fc.record({
        m: fc.constant('ct' as const),
        ct: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...CONTENT_TYPES) }, nastyString(30)),
      }),
    },
    fc.record({
      m: fc.constant('encoding' as const),
      enc: fc.constantFrom('json' as const, 'form' as const, 'json-escaped' as const),
    }),
    {
      weight: 2,
      arbitrary: fc.record({
        m: fc.constant('header' as const),
        name: fc.constantFrom(
          'x-forwarded-for',
          'user-agent',
          'x-request-id',
          'cookie',
          'accept',
          'accept-encoding',
          'accept-version',
          'x-api-key',
          'origin',
          'x-filler',
          'forwarded',
        ),
        value: fc.oneof(
          nastyString(40),
          fc.nat({ max: 200_000 }).map((n) => 'h'.repeat(n)),
          fc.constantFrom('1.2.3.4, 5.6.7.8', '::1', 'unknown', '*', 'application/xml', 'gzip, br', '2.0.0'),
        ),
      }),
    },
    fc.record({
      m: fc.constant('method' as const),
      method: fc.constantFrom('PUT', 'PATCH', 'OPTIONS', 'TRACE', 'SEARCH', 'COPY', 'LOCK', 'PROPFIND'),
    }),
    fc.record({
      m: fc.constant('path' as const),
      suffix: fc.oneof(
        fc.constantFrom(
          '/',
          '//',
          '/.',
          '/..',
          '/../..',
          '%2F',
          '%2f..%2f',
          '%00',
          '%0A',
          '.json',
          ';x',
          '#frag',
          '?',
          '?&&',
          '/%2e%2e/',
          '%',
          '%E0%A4%A',
          '%C0%AF',
          '\\',
          '*',
        ),
        fc.nat({ max: 3000 }).map((n) => `/${'x'.repeat(n)}`),
      ),
    }),
  );

const cleanChoice: fc.Arbitrary<CleanChoice> = fc.record({
  party,
  index: fc.nat(15),
  token: fc.record({
    party: fc.constantFrom('victim' as const, 'victim' as const, 'bystander' as const, 'dead' as const),
    kind: fc.constantFrom('access' as const, 'refresh' as const),
    index: fc.nat(15),
  }),
  hint: fc.constantFrom('access_token' as const, 'refresh_token' as const, null),
  serviceKey: fc.constantFrom(0 as const, 1 as const),
  optional: fc.nat(255),
  days: fc.option(fc.integer({ min: 1, max: 365 }), { nil: null }),
  query: fc.record({
    since: fc.option(fc.nat(), { nil: null }),
    until: fc.option(fc.nat(), { nil: null }),
    limit: fc.option(fc.integer({ min: 1, max: 1000 }), { nil: null }),
  }),
  enc: fc.constantFrom('json' as const, 'json' as const, 'form' as const),
});

const idChoice: fc.Arbitrary<IdChoice> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ k: fc.constant('party' as const), party, index: fc.nat(15) }) },
  fc.record({ k: fc.constant('value' as const), value: jsonLike }),
);
const numValue: fc.Arbitrary<NumValue> = fc.oneof(
  fc.constant({ k: 'absent' as const }),
  {
    weight: 3,
    arbitrary: fc.record({
      k: fc.constant('num' as const),
      value: fc.oneof(
        fc.constantFrom(
          Number.NaN,
          Number.POSITIVE_INFINITY,
          Number.NEGATIVE_INFINITY,
          -1,
          0,
          -0,
          1,
          1e-9,
          0.5,
          30,
          60,
          365,
          366,
          1000,
          1001,
          2 ** 31,
          2 ** 53 + 2,
          1e15,
          1e17,
          1e20,
          1e308,
          -1e308,
          Number.MAX_VALUE,
          Number.MIN_VALUE,
        ),
        fc.integer(),
        fc.double(),
      ),
    }),
  },
  fc.record({ k: fc.constant('other' as const), value: jsonLike }),
);

const CONFIG_VARS = [
  'ACCESS_TOKEN_TTL_SECONDS',
  'REFRESH_TOKEN_TTL_SECONDS',
  'REFRESH_GRACE_SECONDS',
  'JWT_CLOCK_TOLERANCE_SECONDS',
  'SESSION_IDLE_TIMEOUT_MINUTES',
  'SESSION_ABSOLUTE_TIMEOUT_MINUTES',
  'MAX_SESSIONS_PER_USER',
  'RATE_LIMIT_REFRESH_PER_MINUTE',
  'RATE_LIMIT_REVOKE_PER_MINUTE',
  'RATE_LIMIT_INTROSPECT_PER_MINUTE',
  'BODY_LIMIT_BYTES',
  'CLEANUP_INTERVAL_SECONDS',
  'PORT',
  'REDIS_COMMAND_TIMEOUT_MS',
  'REDIS_CONNECT_TIMEOUT_MS',
  'REDIS_SOCKET_TIMEOUT_MS',
  'REDIS_MAX_CONNECTIONS',
] as const;

export const actionArb = (keys: () => KeyMaterial): fc.Arbitrary<Action> =>
  fc.oneof(
    {
      weight: 14,
      arbitrary: fc.record({
        a: fc.constant('http' as const),
        route: fc.nat(ROUTES.length - 1),
        head: fc.boolean(),
        clean: cleanChoice,
        mutations: fc.oneof(
          { weight: 1, arbitrary: fc.constant<HttpMutation[]>([]) },
          { weight: 4, arbitrary: fc.array(httpMutation(keys), { minLength: 1, maxLength: 3 }) },
        ),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        a: fc.constant('verify' as const),
        token: tokenRecipe(keys, { exact: ['victim', 'bystander', 'dead'] }),
      }),
    },
    fc.record({ a: fc.constant('verifyValue' as const), value: jsonLike }),
    {
      weight: 2,
      arbitrary: fc.record({
        a: fc.constant('refresh' as const),
        token: tokenRecipe(keys, { kind: 'refresh', exact: ['victim', 'dead'] }),
      }),
    },
    fc.record({
      a: fc.constant('revokeAccess' as const),
      token: tokenRecipe(keys, { exact: ['victim', 'dead'] }),
    }),
    fc.record({
      a: fc.constant('revokeRefresh' as const),
      token: tokenRecipe(keys, { kind: 'refresh', exact: ['victim', 'dead'] }),
    }),
    {
      weight: 2,
      arbitrary: fc.record({
        a: fc.constant('revokeToken' as const),
        jti: fc.oneof(
          fc.record({ k: fc.constant('victim' as const), index: fc.nat(7) }),
          fc.record({ k: fc.constant('value' as const), value: jsonLike }),
        ),
        userId: idChoice,
        ttl: numValue,
        reason: fc.oneof(fc.constant<JsonLike>('fuzz'), jsonLike, fc.constant<JsonLike>('r'.repeat(5000))),
      }),
    },
    fc.record({
      a: fc.constant('blacklist' as const),
      userId: idChoice,
      jtis: fc.array(
        fc.oneof(
          fc.record({ k: fc.constant('victim' as const), index: fc.nat(7) }),
          fc.record({ k: fc.constant('value' as const), value: jsonLike }),
        ),
        { maxLength: 4 },
      ),
      ttl: numValue,
      reason: fc.oneof(fc.constant<JsonLike>('fuzz'), jsonLike),
    }),
    {
      weight: 2,
      arbitrary: fc.record({
        a: fc.constant('events' as const),
        userId: idChoice,
        since: numValue,
        until: numValue,
        limit: numValue,
      }),
    },
    fc.record({
      a: fc.constant('trust' as const),
      userId: idChoice,
      fingerprint: fc.oneof(fc.constant<JsonLike>('fp-0123456789'), jsonLike),
      name: fc.oneof(fc.constant<JsonLike>('Laptop'), jsonLike),
      type: fc.oneof(fc.constant<JsonLike>('desktop'), jsonLike),
      days: numValue,
    }),
    fc.record({
      a: fc.constant('session' as const),
      op: fc.constantFrom('get' as const, 'validate' as const, 'terminate' as const, 'rotate' as const),
      sid: idChoice,
      reason: fc.oneof(fc.constant<JsonLike>('fuzz'), jsonLike, fc.constant<JsonLike>('r'.repeat(300))),
    }),
    fc.record({
      a: fc.constant('config' as const),
      name: fc.constantFrom(...CONFIG_VARS),
      value: fc.oneof(
        fc.constantFrom(
          '-1',
          '0',
          '1',
          'NaN',
          'Infinity',
          '1e3',
          '1e309',
          '1.5',
          ' 30',
          '0x10',
          '',
          '9007199254740993',
          '99999999999999999999',
          '-0',
          '+5',
          '１',
        ),
        fc.integer().map(String),
        nastyString(12),
      ),
    }),
  );

export const caseArb = (keys: () => KeyMaterial): fc.Arbitrary<CaseRecipe> =>
  fc.record({
    alg: fc.constantFrom<Alg>('ed', 'es', 'hs'),
    actions: fc.array(actionArb(keys), { minLength: 1, maxLength: 3 }),
  });
