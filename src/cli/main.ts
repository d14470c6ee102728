#!/usr/bin/env node
// The tstan command: the only module that touches `process` (argv, env, signals, exit code).
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadOptions } from '../config/load.js';
import { tlsHelpText, usageText, versionText } from '../config/usage.js';
import type { Options } from '../config/options.js';
import { ConfigError } from '../util/errors.js';
import { createRootLogger, type LogFormat } from '../util/logger.js';
import { TstanNode, checkStartable } from './node.js';
import { redactOptions } from '../config/redact.js';
import { describeChange, diffOptions } from '../config/reload.js';
import type { Logger } from '../util/logger.js';
import { DiskFullError, EXIT_DISK_FULL, findDiskFull } from '../util/disk-full.js';

/** `auto`: readable text for a person at a terminal, JSON for files, pipes and log collectors. */
function logFormatOf(options: Options): LogFormat {
  const chosen = options.logging.format;
  if (chosen !== 'auto') return chosen;
  return options.logging.file === '' && process.stdout.isTTY === true ? 'text' : 'json';
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * SIGHUP: reads the flags and files again and applies what can change at run time (channel
 * limits, log level); says which changes need a restart and keeps the old values for those.
 */
function reload(argv: readonly string[], startup: Options, current: Options, node: TstanNode, logger: Logger): Options {
  let next: Options;
  try {
    next = loadOptions(argv, process.env);
  } catch (error) {
    logger.error({ err: error }, 'configuration reload failed; keeping the running configuration');
    return current;
  }
  const diff = diffOptions(current, next);
  // What needs a restart is judged against what the process started with, so it is said each time.
  const needsRestart = diffOptions(startup, next).needsRestart;
  try {
    if (diff.applicable.some((change) => change.path.startsWith('streaming.limits.'))) node.applyLimits(next);
  } catch (error) {
    logger.error({ err: error }, 'new limits refused; keeping the running configuration');
    return current;
  }
  if (next.logging.level !== current.logging.level) logger.level = next.logging.level;
  for (const change of diff.applicable) logger.info(`reloaded: ${describeChange(change)}`);
  for (const change of needsRestart) logger.warn(`not reloaded, needs a restart: ${describeChange(change)}`);
  if (diff.applicable.length === 0 && needsRestart.length === 0) logger.info('configuration reloaded: no changes');
  return next;
}

async function run(options: Options, argv: readonly string[]): Promise<number> {
  const format = logFormatOf(options);
  const root = createRootLogger({
    level: options.logging.level,
    timestamps: options.logging.timestamps,
    format,
    color: format === 'text' && options.logging.file === '' && process.stdout.isTTY === true && !process.env['NO_COLOR'],
    ...(options.logging.file ? { file: options.logging.file } : {}),
  });
  const logger = root.logger;
  logger.debug({ options: redactOptions(options) }, 'effective configuration');
  const node = new TstanNode(options, logger);
  // One listener per signal for the whole life of the process, never removed: between removing
  // one handler and adding the next the default action (kill outright) would be armed again.
  // A stop asked for while the node starts (an orchestrator's SIGTERM right after the health
  // check passed) is carried out as soon as start-up is done.
  let earlyStop: string | undefined;
  let onStopSignal = (signal: string): void => {
    earlyStop ??= signal;
    // A clustered node may wait for its peers at start-up: that wait ends now.
    node.cancelStart();
  };
  process.on('SIGTERM', () => onStopSignal('SIGTERM'));
  process.on('SIGINT', () => onStopSignal('SIGINT'));
  try {
    await node.start();
  } catch (error) {
    if (earlyStop !== undefined) {
      logger.info({ signal: earlyStop }, 'stopped during start-up');
      await root.flush();
      return 0;
    }
    // One clear line for the person who started us; the stack only for whoever asked for debug.
    logger.debug({ err: error }, 'start-up failed');
    const full = findDiskFull(error);
    const message = full === undefined || error instanceof DiskFullError ? messageOf(error) : DiskFullError.from(full, error).message;
    if (options.logging.file !== '') logger.fatal(full === undefined ? {} : { code: 'DISK_FULL', errno: full.errno, path: full.path }, `start-up failed: ${message}`);
    await root.flush();
    process.stderr.write(`tstan: ${message}\n`);
    return full === undefined ? 1 : EXIT_DISK_FULL;
  }
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'shutting down');
      node
        .shutdown()
        .then(
          () => 0,
          (error: unknown) => {
            logger.error({ err: error }, 'shutdown failed');
            return 1;
          },
        )
        .then(async (code) => {
          await root.flush();
          resolve(code);
        });
    };
    // The store failed (an fsync error, a full disk): nothing more may be acknowledged; the node
    // stops, non-zero. A full disk is one line naming the file, and its own exit code
    // (EXIT_DISK_FULL) for supervisors and operators; a restart then waits for free space.
    node.onFatal = (error) => {
      if (stopping) return;
      stopping = true;
      const full = findDiskFull(error);
      if (full !== undefined) {
        const stop = DiskFullError.from(full, error);
        logger.fatal({ code: stop.code, errno: full.errno, path: full.path, exitCode: EXIT_DISK_FULL }, stop.message);
        process.stderr.write(`tstan: ${stop.message}\n`);
      } else {
        logger.fatal({ err: error }, 'the store failed: stopping');
        process.stderr.write(`tstan: the store failed, stopping: ${error.message}\n`);
      }
      node
        .shutdown()
        .catch(() => undefined)
        .finally(async () => {
          await root.flush();
          resolve(full === undefined ? 1 : EXIT_DISK_FULL);
        });
    };
    onStopSignal = stop;
    if (earlyStop !== undefined) stop(earlyStop);
    let current = options;
    process.on('SIGHUP', () => {
      current = reload(argv, options, current, node, logger);
    });
    process.on('SIGUSR1', () => {
      root.reopen();
      logger.info('log file reopened');
    });
  });
}

export async function main(argv: readonly string[]): Promise<number> {
  let options: Options;
  try {
    options = loadOptions(argv, process.env);
    // `-t` accepts exactly what start-up accepts: the same checks, in the same order.
    if (options.action === 'check' || options.action === 'run') await checkStartable(options);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`tstan: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
  switch (options.action) {
    case 'help':
      process.stdout.write(usageText());
      return 0;
    case 'help_tls':
      process.stdout.write(tlsHelpText());
      return 0;
    case 'version':
      process.stdout.write(versionText(options.version));
      return 0;
    case 'check':
      process.stdout.write('configuration is valid\n');
      return 0;
    case 'run':
      return run(options, argv);
  }
}

function isEntryPoint(): boolean {
  const invoked = process.argv[1];
  if (!invoked) return false;
  try {
    return realpathSync(invoked) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  main(process.argv.slice(2)).then(
    (code) => {
      // Everything is closed by now; exit rather than wait on a stray handle.
      setImmediate(() => process.exit(code));
    },
    (error: unknown) => {
      process.stderr.write(`tstan: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
