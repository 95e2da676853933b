import fc from 'fast-check';
import { costTagsOf, costTagValue, MAX_TAG_VALUE_LENGTH } from '../../../lambda/core/cost-tags';
import { TAG_REPOSITORY, TAG_WORKFLOW } from '../../../src/contracts/instance-tags';

/** The tag value pattern CloudFormation documents for every service's tags, and EC2's length limit. */
const VALID = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
const isValidTagValue = (v: string) => VALID.test(v) && Array.from(v).length <= MAX_TAG_VALUE_LENGTH && !/^aws:/i.test(v);

/** Strings of any UTF-16 units (lone surrogates included) and of whole code points, short and long. */
const anyString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 600 }),
  fc.string({ unit: 'grapheme', maxLength: 400 }),
  fc.string({ unit: fc.constantFrom('a', 'A', ' ', ':', '/', '\u00e9', '\u{1F680}', '\u2028', '\t', '<', '\ud800'), maxLength: 300 }),
  fc.string().map((s) => `aws:${s}`),
  fc.string().map((s) => `AwS:${s}`),
);

describe('cost tag values', () => {
  test('any string gives a valid tag value', () => {
    fc.assert(fc.property(anyString, (raw) => isValidTagValue(costTagValue(raw))), { numRuns: 2000 });
  });

  test('sanitizing is deterministic and idempotent', () => {
    fc.assert(fc.property(anyString, (raw) => {
      const once = costTagValue(raw);
      return costTagValue(raw) === once && costTagValue(once) === once;
    }), { numRuns: 1000 });
  });

  test('a valid value passes unchanged', () => {
    const valid = fc.string({ unit: fc.constantFrom(...'abcXYZ019 _.:/=+-@\u00e9\u4e2d'.split('')), maxLength: MAX_TAG_VALUE_LENGTH })
      .filter((s) => !/^aws:/i.test(s));
    fc.assert(fc.property(valid, (v) => costTagValue(v) === v));
  });

  test('names a workflow author may write come out readable', () => {
    expect(costTagValue('octo-org/app')).toBe('octo-org/app');
    expect(costTagValue('.github/workflows/ci.yml')).toBe('.github/workflows/ci.yml');
    expect(costTagValue('Build & test (nightly)')).toBe('Build _ test _nightly_');
    expect(costTagValue('Déploiement 🚀')).toBe('Déploiement _');
    expect(costTagValue('line\u2028sep\ttab')).toBe('line sep_tab');
    expect(costTagValue('aws:deploy')).toBe('aws_deploy');
    expect(costTagValue('AWS:')).toBe('AWS_');
  });

  test('a long value is cut at 256 characters, counted as code points', () => {
    expect(costTagValue('x'.repeat(300))).toBe('x'.repeat(256));
    const wide = '\u{20000}'.repeat(300); // a CJK letter outside the BMP: two UTF-16 units each
    expect(Array.from(costTagValue(wide))).toHaveLength(256);
  });

  test('the tags of a job: repository always, workflow when the payload named one', () => {
    expect(costTagsOf({ repo: 'octo-org/app', workflowName: 'CI' })).toEqual({ [TAG_REPOSITORY]: 'octo-org/app', [TAG_WORKFLOW]: 'CI' });
    expect(costTagsOf({ repo: 'octo-org/app' })).toEqual({ [TAG_REPOSITORY]: 'octo-org/app' });
  });
});
