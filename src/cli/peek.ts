/**
 * The value of `--flag value` or `--flag=value` in raw arguments, before parsing: a command adds
 * the options of the model or attack the command line names, so that they parse and show in --help.
 */
export function peek(argv: readonly string[], flag: string): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === flag) return argv[i + 1];
    if (a.startsWith(`${flag}=`)) return a.slice(flag.length + 1);
  }
  return undefined;
}
