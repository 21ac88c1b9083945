/**
 * `armbridge <command> [options]`. Parsing, help and exit codes only; the work is in the layers.
 * Exit codes: 0 ok, 1 failed (an armbridge error with its message), 2 usage, 130 interrupted.
 */
import { ArmbridgeError } from '../errors.ts';
import { commandHelp, parseOptions, UsageError, type Command } from './command.ts';
import { calibrateCommand } from './commands/calibrate.ts';
import { datasetCommand } from './commands/dataset.ts';
import { demoCommand } from './commands/demo.ts';
import { evalCommand } from './commands/eval.ts';
import { deployCommand } from './commands/deploy.ts';
import { exportCommand } from './commands/export.ts';
import { importCommand } from './commands/import.ts';
import { improveCommand } from './commands/improve.ts';
import { inspectCommand } from './commands/inspect.ts';
import { recordCommand } from './commands/record.ts';
import { recoverCommand } from './commands/recover.ts';
import { replayCommand } from './commands/replay.ts';
import { rosCommand } from './commands/ros.ts';
import { scanCommand } from './commands/scan.ts';
import { simCommand } from './commands/sim.ts';
import { teleopCommand } from './commands/teleop.ts';
import { trainCommand } from './commands/train.ts';

export const COMMANDS: readonly Command[] = [scanCommand, simCommand, calibrateCommand, teleopCommand, recordCommand, recoverCommand, inspectCommand, datasetCommand, exportCommand, importCommand, trainCommand, evalCommand, improveCommand, deployCommand, replayCommand, rosCommand, demoCommand] as unknown as Command[];

function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'armbridge: record, train, deploy and replay robot-arm policies (SO-101, Koch, ROS 2)',
    '',
    'Usage: armbridge <command> [options]     armbridge <command> --help',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '  help       This text; `help --markdown` prints the CLI reference (docs/cli.md)',
    '',
  ].join('\n');
}

export async function main(argv: readonly string[], io = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    if (rest.includes('--markdown')) io.stdout.write(COMMANDS.map((c) => commandHelp(c, true)).join('\n'));
    else io.stdout.write(mainHelp());
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    io.stderr.write(`unknown command "${name}"\n\n${mainHelp()}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout.write(commandHelp(command));
    return 0;
  }
  // SIGINT / SIGTERM abort the command's signal (an e-stop for commands that move arms). The handler
  // stays installed until the command has finished its safe shutdown: a second Ctrl-C must not
  // kill the process before torque is off.
  const controller = new AbortController();
  const onSignal = () => {
    if (controller.signal.aborted) io.stderr.write('\nstill shutting down safely…\n');
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const options = parseOptions(command, rest);
    const code = await command.run(options, { ...io, signal: controller.signal });
    return controller.signal.aborted && code === 0 ? 130 : code;
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr.write(`armbridge ${name}: ${e.message}\n`);
      return 2;
    }
    if (e instanceof ArmbridgeError) {
      io.stderr.write(`armbridge ${name}: ${e.message} [${e.code}]\n`);
      return controller.signal.aborted ? 130 : 1;
    }
    throw e;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

const isEntry = process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/').split('/').pop()!);
if (isEntry) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`armbridge: unexpected error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
