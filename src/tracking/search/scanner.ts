/**
 * A cursor over one filter or order-by string. The grammar is small and context-dependent (a key such
 * as `metrics.1h_return` must not lex as a number), so the parsers read characters directly instead of
 * going through a separate token stream.
 */
import { invalidValue, type TrackingError } from "../errors.js";

const WORD_CHAR = /[\p{L}\p{N}_]/u;
// Unquoted keys may contain dots (`metrics.train.loss`), as sqlparse reads them in MLflow.
const KEY_CHAR = /[\p{L}\p{N}_.]/u;
const NUMBER = /[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/y;

export class Scanner {
  pos = 0;

  constructor(
    readonly text: string,
    /** "filter" or "order_by", for messages. */
    readonly what: string,
  ) {}

  /** An INVALID_PARAMETER_VALUE error that names the 1-based position and the text being parsed. */
  error(message: string, at = this.pos, hint?: string): TrackingError {
    return invalidValue(
      `${message} at position ${at + 1} of ${this.what} ${JSON.stringify(this.text)}`,
      hint,
    );
  }

  skipSpace(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos] ?? "")) this.pos += 1;
  }

  atEnd(): boolean {
    this.skipSpace();
    return this.pos >= this.text.length;
  }

  peek(): string {
    return this.text[this.pos] ?? "";
  }

  /** The next few characters, quoted, for "found ..." in messages. */
  found(): string {
    const rest = this.text.slice(this.pos).trimStart();
    if (rest === "") return "end of input";
    const word = /^\S+/.exec(rest)?.[0] ?? rest;
    return `'${word.length > 20 ? `${word.slice(0, 20)}…` : word}'`;
  }

  /** A run of letters, digits and underscores, or "" when none starts here. */
  readWord(chars: RegExp = WORD_CHAR): string {
    const start = this.pos;
    while (this.pos < this.text.length && chars.test(this.text[this.pos] ?? "")) this.pos += 1;
    return this.text.slice(start, this.pos);
  }

  readKey(): string {
    return this.readWord(KEY_CHAR);
  }

  /** Consumes `word` (case-insensitive) when it stands here as a whole word. */
  acceptKeyword(word: string): boolean {
    const end = this.pos + word.length;
    if (this.text.slice(this.pos, end).toUpperCase() !== word) return false;
    if (WORD_CHAR.test(this.text[end] ?? "")) return false;
    this.pos = end;
    return true;
  }

  /** The next whole word without consuming it, for keyword checks. */
  peekWord(): string {
    const start = this.pos;
    const word = this.readWord();
    this.pos = start;
    return word;
  }

  /**
   * Reads a string quoted with `quote`, the cursor on the opening quote. A doubled quote or a backslash
   * escapes the next character, so `'it''s'` and `'it\'s'` both read as `it's`.
   */
  readQuoted(): string {
    const start = this.pos;
    const quote = this.peek();
    let out = "";
    this.pos += 1;
    while (this.pos < this.text.length) {
      const ch = this.text[this.pos] ?? "";
      const next = this.text[this.pos + 1];
      if (ch === "\\" && next !== undefined) {
        out += next;
        this.pos += 2;
      } else if (ch === quote && next === quote) {
        out += quote;
        this.pos += 2;
      } else if (ch === quote) {
        this.pos += 1;
        return out;
      } else {
        out += ch;
        this.pos += 1;
      }
    }
    throw this.error(`Unterminated string (missing closing ${quote})`, start);
  }

  /** A numeric literal that ends at a word boundary, or undefined (cursor unchanged) when none is here. */
  readNumber(): number | undefined {
    NUMBER.lastIndex = this.pos;
    const match = NUMBER.exec(this.text);
    if (match === null) return undefined;
    const end = this.pos + match[0].length;
    if (KEY_CHAR.test(this.text[end] ?? "")) return undefined;
    this.pos = end;
    return Number(match[0]);
  }
}
