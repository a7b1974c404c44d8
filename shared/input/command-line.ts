/**
 * The words a player typed after a command. FXServer hands a command handler the arguments
 * its console tokenizer made (a word starting with `#` or `//` ends the line there, double
 * quotes vanish, a word opening with `{` or `[` is read as JSON) and, third, the raw line as
 * typed. Free text must come from the raw line: "Robbery at Fleeca #3 two suspects" would
 * otherwise reach the CAD as "Robbery at Fleeca".
 * Source: citizenfx/fivem code/client/citicore/console/Console.cpp (tokenizer) and
 * code/components/citizen-scripting-core/src/ResourceScriptFunctions.cpp (raw command).
 */
export function wordsAfterCommand(name: string, raw: unknown, args: readonly unknown[]): string {
  if (typeof raw === 'string') {
    // The raw line starts with the command word as typed (any case, a `/` from chat kept
    // by some chat resources); everything after the first run of spaces is the caller's.
    const line = raw.replace(/^\s+/, '');
    const match = /^\/?(\S+)(?:\s+|$)/.exec(line);
    if (match && match[1]?.toLowerCase() === name.toLowerCase()) {
      return line.slice(match[0].length);
    }
  }
  return args.map(String).join(' ');
}
