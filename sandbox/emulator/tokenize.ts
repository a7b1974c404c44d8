// The console tokenizer every command line passes through, on the client (chat, F8,
// ExecuteCommand) and again on the server. Follows citizenfx/fivem
// code/client/citicore/console/Console.cpp, Tokenize():
// - any character up to U+0020 separates arguments;
// - `"` at an argument's start runs to the next unescaped `"` (`\"` is a quote), quotes
//   removed, spaces kept; unclosed, it runs to the end; inside a plain argument a `"` ends
//   that argument and opens a quoted one;
// - `#` or `//` at an argument's start ends the line; inside an argument they are kept;
// - `/*` at the very start discards the line; at a later argument's start it skips three
//   characters (the scan for `*/` in Console.cpp stops at the `*`), nothing more;
// - `{` or `[` at an argument's start: when a whole JSON value follows, the argument is its
//   raw text (spaces and quotes kept), else the plain rules apply.
// `;` is not special here: only the console buffer splits on it, and ExecuteCommand and the
// chat never reach that path.

const isSpace = (ch: string | undefined): boolean => ch !== undefined && ch <= ' ';

export function tokenize(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  const n = line.length;
  if (line.startsWith('/*')) return out;
  while (i < n) {
    while (i < n && isSpace(line[i])) i++;
    if (i >= n) break;
    const ch = line[i];
    if (ch === '#' || (ch === '/' && line[i + 1] === '/')) break;
    if (ch === '/' && line[i + 1] === '*') {
      i += 3;
      continue;
    }
    if (ch === '{' || ch === '[') {
      const end = jsonEnd(line, i);
      if (end !== null) {
        out.push(line.slice(i, end));
        i = end;
        continue;
      }
    }
    if (ch === '"') {
      let token = '';
      i++;
      while (i < n && line[i] !== '"') {
        if (line[i] === '\\' && line[i + 1] === '"') {
          token += '"';
          i += 2;
          continue;
        }
        token += line[i];
        i++;
      }
      i++; // the closing quote, if any
      out.push(token);
      continue;
    }
    const start = i;
    while (i < n && !isSpace(line[i]) && line[i] !== '"') i++;
    out.push(line.slice(start, i));
  }
  return out;
}

/** Where a JSON object or array starting at `from` ends, or null when none does. */
function jsonEnd(line: string, from: number): number | null {
  let depth = 0;
  let inString = false;
  for (let i = from; i < line.length; i++) {
    const ch = line[i];
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') inString = true;
    else if (ch === '{' || ch === '[') depth++;
    else if (ch === '}' || ch === ']') {
      depth--;
      if (depth === 0) {
        try {
          JSON.parse(line.slice(from, i + 1));
          return i + 1;
        } catch {
          return null;
        }
      }
    }
  }
  return null;
}
