/** The memory stores' argument checks: the shared ones in `core/validate`. */
export {
  assertFiniteNumber,
  assertNonEmptyString,
  assertTtlSeconds,
  assertUserScoped,
} from '../../core/validate.js';
