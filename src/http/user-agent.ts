/**
 * A user agent in words for people (the account and operator consoles): "Chrome on Windows 10",
 * "Safari on iPhone". Parsed with `bowser` (MIT, maintained; `ua-parser-js` 2 is AGPL), never by
 * hand. Display only: a user agent is what the client claims, so nothing is decided on it.
 */
import Bowser from 'bowser';
import { LRUCache } from 'lru-cache';
import { Type } from 'typebox';

/** The `client` field of sessions and security events in the API. */
export const ClientView = Type.Object(
  {
    browser: Type.Union([Type.String(), Type.Null()], { description: 'Browser or app name, e.g. `Chrome`' }),
    os: Type.Union([Type.String(), Type.Null()], {
      description: 'Operating system, e.g. `Windows 10`, `iOS 17.1`',
    }),
    deviceType: Type.Union([Type.String(), Type.Null()], {
      description: '`desktop`, `mobile`, `tablet`, `tv` or `bot`',
    }),
    summary: Type.String({ description: 'In words: `Chrome on Windows 10`, or `an unknown device`' }),
  },
  {
    description: 'The user agent in words (parsed with bowser; what the client claims, shown, never trusted)',
  },
);

export interface ClientWords {
  browser: string | null;
  os: string | null;
  deviceType: string | null;
  summary: string;
}

export const UNKNOWN_DEVICE = 'an unknown device';

/** Parsed user agents (they repeat: one per browser version and OS); bounded. */
const cache = new LRUCache<string, ClientWords>({ max: 1000 });

/** The first product token of a non-browser client (`curl/8.5.0` → `curl`). */
const PRODUCT = /^([A-Za-z][A-Za-z0-9._-]{0,39})(?:\/[^\s]*)?/;

function parse(userAgent: string): ClientWords {
  const result = Bowser.parse(userAgent);
  const browser = result.browser.name || PRODUCT.exec(userAgent)?.[1] || null;
  const osName = result.os.name || null;
  const osVersion =
    result.os.versionName ?? (osName === 'iOS' || osName === 'Android' ? result.os.version : undefined);
  const os = osName === null ? null : osVersion ? `${osName} ${osVersion}` : osName;
  const deviceType = result.platform.type || null;
  // "on iPhone" reads better than "on iOS 17.1" for a phone the user holds.
  const where = result.platform.model && deviceType !== 'desktop' ? result.platform.model : os;
  const summary =
    browser !== null && where !== null ? `${browser} on ${where}` : (browser ?? where ?? UNKNOWN_DEVICE);
  return { browser, os, deviceType, summary };
}

/** `userAgent` in words; `null` or empty gives `an unknown device`. Never throws. */
export function describeUserAgent(userAgent: string | null | undefined): ClientWords {
  if (userAgent === null || userAgent === undefined || userAgent.trim() === '') {
    return { browser: null, os: null, deviceType: null, summary: UNKNOWN_DEVICE };
  }
  const key = userAgent.slice(0, 1024);
  let words = cache.get(key);
  if (words === undefined) {
    try {
      words = parse(key);
    } catch {
      words = { browser: null, os: null, deviceType: null, summary: UNKNOWN_DEVICE };
    }
    cache.set(key, words);
  }
  return words;
}
