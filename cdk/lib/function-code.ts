// The viewer-request function's code as deployed: the source with the output side limit set,
// minified (esbuild) to stay well inside CloudFront Functions' 10 KB.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { transformSync } from 'esbuild';

export const FUNCTION_SOURCE = path.join(__dirname, '..', 'functions', 'canonicalize.js');

export function functionCode(maxOutputSide: number): string {
  if (!Number.isInteger(maxOutputSide) || maxOutputSide < 16 || maxOutputSide > 65535) {
    throw new Error(`maxOutputSide must be an integer from 16 to 65535, not ${maxOutputSide}`);
  }
  const source = readFileSync(FUNCTION_SOURCE, 'utf8');
  const marker = 'var MAX_SIDE = 8192;';
  if (!source.includes(marker)) throw new Error(`${FUNCTION_SOURCE} lost its "${marker}" line`);
  const configured = source.replace(marker, `var MAX_SIDE = ${maxOutputSide};`);
  // Everything but the entry point goes inside a closure, where the minifier may shorten names
  // (it keeps top-level names, which could be globals). The limit is 10,240 bytes.
  const wrapped = `var pixflow = (function () {\n${configured}\nreturn handler;\n})();\nfunction handler(event) { return pixflow(event); }\n`;
  // The accumulator's own property names are shortened too (never a name CloudFront reads).
  const internal = /^(set|path|once|seen|sig|named|query|sharpen|opts|auto|chw|chd|ex|aw|adpr|af|ac)$/;
  return transformSync(wrapped, { minify: true, target: 'es2015', mangleProps: internal }).code;
}
