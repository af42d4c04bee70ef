import { countTokens } from 'gpt-tokenizer';
import type { Tokenizer } from '../../domain/ports';

/**
 * o200k BPE counts. Open models use other vocabularies, but for budgeting context a real BPE
 * is within a few percent of theirs, where a character count is off by 2-4x for code and non-English text.
 */
export const gptTokenizer: Tokenizer = { count: (text) => countTokens(text) };
