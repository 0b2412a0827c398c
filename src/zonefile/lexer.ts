// Master-file tokenizer (RFC 1035 5.1): entries, parentheses over lines, `;` comments, quoted strings, escapes.
//
// The text is scanned by char code and tokens are slices of the source, so a large zone costs one
// pass and one small object per token. Characters are treated as octets: callers hand in text whose
// char codes are all <= 0xff (see `toOctetString`), which keeps `\DDD` and raw 8-bit data exact.

/** One token of an entry: the source text as written (escapes kept; quotes stripped when `quoted`). */
export interface Token {
  text: string;
  /** The whole token was a "quoted string" (its `text` is what lay between the quotes). */
  quoted: boolean;
  /** 1-based line and column of the token's first character. */
  line: number;
  col: number;
  /** Characters the token occupies in the source, quotes included (for "after this token" positions). */
  len: number;
}

/** One logical entry: the tokens of one line, or of several lines joined by parentheses. */
export interface Entry {
  tokens: Token[];
  /** The entry's first line starts with a blank: the owner is omitted (RFC 1035 5.1). */
  blankStart: boolean;
}

/** A lexical error at a position; the lexer has already skipped to the end of the offending line. */
export class LexError extends Error {
  constructor(
    readonly why: string,
    readonly line: number,
    readonly col: number,
  ) {
    super(why);
    this.name = 'LexError';
  }
}

const NL = 0x0a;
const CR = 0x0d;
const SP = 0x20;
const TAB = 0x09;
const SEMI = 0x3b;
const LPAREN = 0x28;
const RPAREN = 0x29;
const QUOTE = 0x22;
const BSLASH = 0x5c;

/** A string whose char codes are octets: non-ASCII text is UTF-8 encoded first (what a file on disk holds). */
export function toOctetString(text: string): string {
  return /[^\x00-\x7f]/.test(text) ? Buffer.from(text, 'utf8').toString('latin1') : text;
}

export class Lexer {
  private pos = 0;
  private line = 1;
  private lineStart = 0;

  constructor(private readonly src: string) {}

  /** Skip the rest of the current physical line (error recovery). */
  private skipLine(): void {
    const nl = this.src.indexOf('\n', this.pos);
    this.pos = nl < 0 ? this.src.length : nl;
  }

  private fail(why: string, line: number, col: number): never {
    this.skipLine();
    throw new LexError(why, line, col);
  }

  /** The next non-empty entry, or null at the end of the text. Throws LexError (and stays usable). */
  next(): Entry | null {
    const src = this.src;
    const n = src.length;
    let tokens: Token[] = [];
    let blankStart = false;
    let atLineStart = this.pos === this.lineStart;
    let depth = 0;
    let parenLine = 0;
    let parenCol = 0;
    for (;;) {
      if (this.pos >= n) {
        if (depth > 0) {
          // Pointing at the unclosed "(" is more useful than pointing at the end of the file.
          throw new LexError('unbalanced parenthesis: "(" is never closed', parenLine, parenCol);
        }
        return tokens.length > 0 ? { tokens, blankStart } : null;
      }
      const c = src.charCodeAt(this.pos);
      if (c === NL) {
        this.pos++;
        this.line++;
        this.lineStart = this.pos;
        if (depth === 0) {
          if (tokens.length > 0) return { tokens, blankStart };
          blankStart = false;
          atLineStart = true;
        }
        continue;
      }
      if (c === SP || c === TAB || c === CR) {
        if (atLineStart && depth === 0 && tokens.length === 0) blankStart = true;
        atLineStart = false;
        this.pos++;
        continue;
      }
      atLineStart = false;
      if (c === SEMI) {
        this.skipLine();
        continue;
      }
      if (c === LPAREN) {
        if (depth === 0) {
          parenLine = this.line;
          parenCol = this.pos - this.lineStart + 1;
        }
        depth++;
        this.pos++;
        continue;
      }
      if (c === RPAREN) {
        if (depth === 0) {
          const col = this.pos - this.lineStart + 1;
          tokens = [];
          this.fail('unbalanced parenthesis: ")" without "("', this.line, col);
        }
        depth--;
        this.pos++;
        continue;
      }
      const start = this.pos;
      const line = this.line;
      const col = start - this.lineStart + 1;
      if (c === QUOTE) {
        let p = start + 1;
        for (;;) {
          if (p >= n) this.fail('unterminated quoted string', line, col);
          const d = src.charCodeAt(p);
          if (d === QUOTE) break;
          if (d === NL) this.fail('unterminated quoted string', line, col);
          if (d === BSLASH) {
            p++;
            if (p < n && src.charCodeAt(p) === NL) this.fail('unterminated quoted string', line, col);
          }
          p++;
        }
        tokens.push({ text: src.slice(start + 1, p), quoted: true, line, col, len: p + 1 - start });
        this.pos = p + 1;
        continue;
      }
      // A word runs to the next blank, `;`, parenthesis or end of line. A `\` escapes the next
      // character; a `"` inside a word (SVCB `alpn="h2,h3"`) opens a quoted part that may hold blanks.
      let p = start;
      for (;;) {
        if (p >= n) break;
        const d = src.charCodeAt(p);
        if (d === SP || d === TAB || d === NL || d === CR || d === SEMI || d === LPAREN || d === RPAREN) break;
        if (d === BSLASH) {
          if (p + 1 >= n || src.charCodeAt(p + 1) === NL) this.fail('backslash at the end of a line', line, p - this.lineStart + 1);
          p += 2;
          continue;
        }
        if (d === QUOTE) {
          const qcol = p - this.lineStart + 1;
          p++;
          for (;;) {
            if (p >= n) this.fail('unterminated quoted string', line, qcol);
            const e = src.charCodeAt(p);
            if (e === QUOTE) break;
            if (e === NL) this.fail('unterminated quoted string', line, qcol);
            if (e === BSLASH) p++;
            p++;
          }
        }
        p++;
      }
      tokens.push({ text: src.slice(start, p), quoted: false, line, col, len: p - start });
      this.pos = p;
    }
  }
}

/** All tokens of a short text (one RDATA, say), as if it were one entry; parentheses and comments allowed. */
export function tokenize(text: string): Token[] {
  const lx = new Lexer(toOctetString(text));
  const out: Token[] = [];
  for (let e = lx.next(); e; e = lx.next()) out.push(...e.tokens);
  return out;
}
