/** Regenerates docs/cli.md's CLI reference from the command definitions (`npm run docs`). */
import { readFileSync, writeFileSync } from 'node:fs';
import { commandHelp } from '../src/cli/command.ts';
import { COMMANDS } from '../src/cli/main.ts';

const path = new URL('../docs/cli.md', import.meta.url);
const readme = readFileSync(path, 'utf8');
const start = '<!-- cli-reference:start -->\n';
const end = '<!-- cli-reference:end -->';
const [head, rest] = readme.split(start);
if (rest === undefined) throw new Error('docs/cli.md has no cli-reference markers');
const tail = rest.slice(rest.indexOf(end));
writeFileSync(path, head + start + COMMANDS.map((c) => commandHelp(c, true)).join('\n') + tail);
process.stdout.write('docs/cli.md CLI reference updated\n');
