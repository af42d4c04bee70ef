/**
 * Prompts and answers are stored brotli-compressed (a binary attribute) once they are long enough to
 * gain: storage and every write and read are billed by item bytes, and each turn is written to the
 * table (the byConversation index holds keys only). English prose shrinks 2–3× even at a few hundred bytes,
 * thanks to brotli's built-in dictionary. Short texts stay plain strings; readers accept both, so items
 * written before compression still read.
 */
import { brotliCompressSync, brotliDecompressSync, constants } from 'node:zlib';

/** Below this many UTF-8 bytes the compressed form rarely pays for its framing. */
const COMPRESS_FROM_BYTES = 160;
/** Quality 5 of 11: within a few percent of the best ratio on short text, at ~50 µs per 2 KB. */
const QUALITY = 5;

/** The attribute value for a text: the text itself, or its brotli bytes when that is smaller. */
export function encodeStoredText(text: string): string | Uint8Array {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length < COMPRESS_FROM_BYTES) return text;
  const compressed = brotliCompressSync(bytes, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: QUALITY,
      [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
      [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
    },
  });
  // Binary attributes are billed by their length, strings by their UTF-8 length.
  return compressed.length < bytes.length ? new Uint8Array(compressed) : text;
}

/** The text an attribute holds: a plain string, or brotli bytes. Anything else is undefined. */
export function decodeStoredText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) return brotliDecompressSync(value).toString('utf8');
  return undefined;
}
