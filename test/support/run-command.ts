// Runs a command to completion and gives its exit code and output, whether it succeeded or not
// (execFile rejects on a non-zero exit; the tests of command lines want to read that exit).
import { execFile } from 'node:child_process';
import { repoRoot } from './tstan-process.js';

export interface CommandResult {
  /** The exit code; -1 when the command could not be run or was killed. */
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** `file args...` from the repository root, killed after `timeoutMs`. */
export function runCommand(file: string, args: readonly string[], timeoutMs: number): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd: repoRoot, timeout: timeoutMs }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

/** `node args...` from the repository root, killed after `timeoutMs`. */
export function runNode(args: readonly string[], timeoutMs: number): Promise<CommandResult> {
  return runCommand(process.execPath, args, timeoutMs);
}
