// A CA bundle given as PEM text: checked once, the same way for the functions' layer and the image.
import { X509Certificate } from 'crypto';

/**
 * What is wrong with `pem` as a bundle of PEM certificates, naming `prop`; undefined when nothing.
 * Each block must be a CERTIFICATE that parses as X.509, and nothing else may be there: a private
 * key pasted by mistake would otherwise end up in the template and in every image.
 */
export function pemBundleProblem(prop: string, pem: string): string | undefined {
  const blocks = [...pem.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g)];
  const fix = 'give one or more PEM certificates (-----BEGIN CERTIFICATE----- ... -----END CERTIFICATE-----)';
  if (blocks.length === 0) return `${prop} holds no PEM block; ${fix}.`;
  const others = blocks.filter((b) => b[1] !== 'CERTIFICATE').map((b) => b[1]);
  if (others.length > 0) return `${prop} holds ${[...new Set(others)].join(', ')} block(s), which must not be shared; ${fix} only.`;
  const outside = blocks.reduce((rest, b) => rest.replace(b[0], ''), pem).trim();
  if (outside !== '') return `${prop} holds text outside its PEM blocks ('${outside.slice(0, 40)}'); ${fix} only.`;
  for (const [index, block] of blocks.entries()) {
    try {
      new X509Certificate(block[0]);
    } catch (e) {
      return `${prop}: certificate ${index + 1} of ${blocks.length} does not parse (${(e as Error).message}); ${fix}.`;
    }
  }
  return undefined;
}
