#!/usr/bin/env node
// The tstan command: the only module that touches `process` (argv, env, signals, exit code).
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadOptions } from '../config/load.js';
import { tlsHelpText, usageText, versionText } from '../config/usage.js';
import type { Options } from '../config/options.js';
import { ConfigError } from '../util/errors.js';
import { createRootLogger } from '../util/logger.js';
import { TstanNode } from './node.js';

function logLevelOf(options: Options): 'info' | 'debug' | 'trace' {
  return options.logging.level;
}

async function run(options: Options): Promise<number> {
  const root = createRootLogger({
    level: logLevelOf(options),
    timestamps: options.logging.timestamps,
    ...(options.logging.file ? { file: options.logging.file } : {}),
  });
  const logger = root.logger;
  logger.debug({ options }, 'effective configuration');
  const node = new TstanNode(options, logger);
  try {
    await node.start();
  } catch (error) {
    logger.fatal({ err: error }, 'start-up failed');
    root.flush();
    process.stderr.write(`tstan: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'shutting down');
      node
        .shutdown()
        .then(() => resolve(0))
        .catch((error: unknown) => {
          logger.error({ err: error }, 'shutdown failed');
          resolve(1);
        })
        .finally(() => root.flush());
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
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
      return run(options);
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
