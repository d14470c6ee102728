// Proves deploy/Dockerfile without a Docker engine:
// - parsed with a Dockerfile parser: a build stage on Node 20 with dev dependencies, a slim Node 20
//   runtime stage with production dependencies only, a numeric non-root USER, tini as init, the
//   tstan command as ENTRYPOINT (the package's bin) with the reference image's `-m 8222` as CMD,
//   EXPOSE of the client, route and monitoring ports, /data as a volume, HEALTHCHECK on /healthz;
// - .dockerignore keeps installs, builds and data out of the context and everything the build
//   needs in;
// - the runtime stage is reproduced in a scratch directory: its COPY steps from exactly the files
//   they name (the build stage's output is this checkout's build), its `npm ci --omit=dev
//   --ignore-scripts` run as written, and the result mounted at the image's WORKDIR in a container
//   of support/netns.ts running as the image's user: `tstan -v` answers, the default command
//   starts and passes the HEALTHCHECK, a FILE store on the /data volume starts, and SIGTERM
//   through tini stops it cleanly. A runtime dependency or file the stage does not install fails.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { chownSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { skipWithout } from '../support/test-deps.js';
import { repoRoot } from '../support/tstan-process.js';
import { ContainerNetwork, type ContainerSpec } from './support/netns.js';
import { numericUser, parseDockerfile } from './support/image.js';
import { until } from './support/cluster-view.js';

const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string; bin: Record<string, string> };
const stages = parseDockerfile();
const build = stages[0]!;
const runtime = stages.at(-1)!;

/** .dockerignore as regular expressions over context-relative paths (Go's filepath.Match, with `**`). */
function dockerignore(): RegExp[] {
  return readFileSync(join(repoRoot, '.dockerignore'), 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((pattern) => {
      expect(pattern.startsWith('!'), 'no exceptions: the matcher here does not model them').toBe(false);
      const segments = pattern.replace(/^\/+/, '').split('/');
      const body = segments
        .map((segment, i) => {
          if (segment === '**') return i === segments.length - 1 ? '.*' : '(?:[^/]+/)*';
          const literal = segment.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]');
          return i === segments.length - 1 ? literal : `${literal}/`;
        })
        .join('');
      return new RegExp(`^${body}$`);
    });
}

function ignored(patterns: readonly RegExp[], path: string): boolean {
  const parts = path.split('/');
  // A pattern that matches a directory excludes everything under it.
  return parts.some((_, i) => patterns.some((re) => re.test(parts.slice(0, i + 1).join('/'))));
}

describe('deploy/Dockerfile', () => {
  it('builds in a stage with every dependency and runs a slim Node 20 stage with production dependencies only', () => {
    expect(stages.map((s) => s.name)).toEqual(['build', 'runtime']);
    expect(build.base).toBe('node:20-bookworm');
    expect(runtime.base).toBe('node:20-bookworm-slim');
    expect(build.runs.map((r) => r.command)).toEqual(['npm ci --ignore-scripts --no-audit --no-fund', 'npm run build']);
    expect(runtime.runs.some((r) => r.command.split(' && ').includes('npm ci --omit=dev --ignore-scripts --no-audit --no-fund'))).toBe(true);
    // The runtime stage takes the package files and proto/ from the context and only the bundled
    // command from the build stage.
    expect(runtime.copies).toEqual([
      { from: undefined, sources: ['package.json', 'package-lock.json'], dest: '/opt/tstan/' },
      { from: undefined, sources: ['proto'], dest: '/opt/tstan/proto' },
      { from: 'build', sources: ['/src/dist/bin'], dest: '/opt/tstan/dist/bin' },
    ]);
    expect(runtime.env['NODE_ENV']).toBe('production');
  });

  it('runs as a numeric non-root user, under tini, with the tstan command as entrypoint and a health check on /healthz', () => {
    const user = numericUser(runtime);
    expect(user.uid).not.toBe(0);
    expect(user.gid).not.toBe(0);
    expect(runtime.entrypoint).toEqual(['/usr/bin/tini', '--', 'node', posix.join(runtime.workdir, pkg.bin['tstan']!)]);
    expect(runtime.cmd).toEqual(['-m', '8222']);
    expect([...runtime.expose].sort()).toEqual([4222, 6222, 8222]);
    expect(runtime.volumes).toEqual(['/data']);
    expect(runtime.healthcheck?.argv.join(' ')).toContain('http://127.0.0.1:8222/healthz');
    expect(Object.keys(runtime.healthcheck?.flags ?? {}).sort()).toEqual(['interval', 'retries', 'start-period', 'timeout']);
    // The volume is made and handed to that user before USER switches to it.
    const chown = runtime.runs.find((r) => r.command.includes('chown'));
    expect(chown?.command).toContain(`chown ${user.uid}:${user.gid} /data`);
  });

  it('.dockerignore keeps installs, builds and data out of the context and everything the build needs in', () => {
    const patterns = dockerignore();
    for (const path of ['node_modules', 'node_modules/nats/index.js', 'test/stan/c/node_modules/x', 'dist', 'dist/bin/tstan.js', 'data', 'data/x', '.git/HEAD', 'a.log', 'bench/out.log']) {
      expect(ignored(patterns, path), path).toBe(true);
    }
    const tracked = spawnSync('git', ['ls-files'], { cwd: repoRoot, encoding: 'utf8' }).stdout.split('\n').filter((path) => path !== '');
    expect(tracked.length).toBeGreaterThan(100);
    const tsconfig = JSON.parse(readFileSync(join(repoRoot, 'tsconfig.build.json'), 'utf8')) as { include: string[] };
    // What `npm ci` and `npm run build` (tsc -p tsconfig.build.json, scripts/bundle.mjs) read.
    const roots = [...tsconfig.include.map((glob) => glob.split('/**')[0]!), 'scripts', 'proto', 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json'];
    const needed = tracked.filter((path) => roots.some((root) => path === root || path.startsWith(`${root}/`)));
    expect(needed.length).toBeGreaterThan(50);
    expect(needed.filter((path) => ignored(patterns, path))).toEqual([]);
    // The runtime stage's context files too.
    for (const copy of runtime.copies.filter((c) => c.from === undefined)) for (const source of copy.sources) expect(ignored(patterns, source), source).toBe(false);
  });

  describe.skipIf(skipWithout('tini', 'netns'))('its runtime stage, reproduced in a scratch directory', () => {
    let scratch: string;
    let image: string;
    let network: ContainerNetwork | undefined;
    let spec: ContainerSpec;

    /** The image's path `path` (absolute) in the scratch directory that stands for the image's WORKDIR. */
    const inScratch = (path: string): string => {
      const rel = posix.relative(runtime.workdir, path);
      expect(rel.startsWith('..'), `${path} is outside WORKDIR ${runtime.workdir}`).toBe(false);
      return join(image, rel);
    };

    beforeAll(async () => {
      expect(existsSync(join(repoRoot, pkg.bin['tstan']!)), 'run `npm run build` first').toBe(true);
      scratch = mkdtempSync(join(tmpdir(), 'tstan-image-'));
      image = join(scratch, 'opt-tstan');
      mkdirSync(image);
      for (const step of runtime.steps) {
        if (step.kind === 'copy') {
          const copy = runtime.copies[step.index]!;
          // The build stage's WORKDIR holds what `npm run build` made there: this checkout's build.
          const from = copy.from === undefined ? repoRoot : copy.from === build.name ? repoRoot : undefined;
          expect(from, `COPY --from=${copy.from}`).toBeDefined();
          for (const source of copy.sources) {
            const hostSource = copy.from === undefined ? join(from!, source) : join(from!, posix.relative(build.workdir, source));
            const target = copy.dest.endsWith('/') ? join(inScratch(copy.dest), source.split('/').at(-1)!) : inScratch(copy.dest);
            mkdirSync(dirname(target), { recursive: true });
            cpSync(hostSource, target, { recursive: true });
          }
          continue;
        }
        const run = runtime.runs[step.index]!;
        for (const part of run.command.split(' && ')) {
          if (part.startsWith('npm ci')) {
            // The install exactly as the Dockerfile says, where the stage runs it.
            const cwd = inScratch(run.workdir);
            const [command, ...args] = part.split(' ');
            const installed = await new Promise<{ code: number | null; output: string }>((resolve) => {
              const child = spawn(command!, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_ENV: runtime.env['NODE_ENV'] ?? '' } });
              let output = '';
              child.stdout.on('data', (d: Buffer) => (output += d.toString()));
              child.stderr.on('data', (d: Buffer) => (output += d.toString()));
              child.once('exit', (code) => resolve({ code, output }));
            });
            expect(installed.code, installed.output).toBe(0);
          } else if (/^(apt-get |rm -rf \/var\/lib\/apt\/lists|npm cache clean|mkdir -p \/data$|chown \d+:\d+ \/data$)/.test(part)) {
            // The system's side of the image: tini is installed on this machine (test-deps), the
            // npm cache is the machine's own, and /data is the volume mounted below.
          } else {
            throw new Error(`the test does not know how to reproduce RUN ${part}`);
          }
        }
      }
      // Nothing of the checkout's dev installs or sources came along.
      expect(readdirSync(image).sort()).toEqual(['dist', 'node_modules', 'package-lock.json', 'package.json', 'proto']);
      expect(readdirSync(join(image, 'dist'))).toEqual(['bin']);
      expect(existsSync(join(image, 'node_modules', 'vitest'))).toBe(false);
      expect(existsSync(join(image, 'node_modules', 'level'))).toBe(true);

      const user = numericUser(runtime);
      const volume = join(scratch, 'data');
      mkdirSync(volume);
      chownSync(volume, user.uid, user.gid);
      network = ContainerNetwork.create(['tstan']);
      spec = {
        name: 'tstan',
        argv: [...runtime.entrypoint!, ...runtime.cmd!],
        env: runtime.env,
        workdir: runtime.workdir,
        user,
        mounts: [
          { target: runtime.workdir, source: image, readOnly: true },
          ...runtime.volumes.map((target) => ({ target, source: volume })),
        ],
      };
    }, 180_000);

    afterAll(async () => {
      const leftovers = network === undefined ? [] : (await network.destroy(), network.leftovers());
      if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
      expect(leftovers).toEqual([]);
    });

    /**
     * /healthz answers once the NATS side listens, before the streaming server has started and
     * tstan handles SIGTERM; a clean stop is checked from /readyz on, when the node serves.
     */
    const untilServing = (): Promise<void> =>
      until('/readyz answers 200', async () => {
        const probe = "fetch('http://127.0.0.1:8222/readyz').then((r) => process.exit(r.status === 200 ? 0 : 1), () => process.exit(1))";
        return (await network!.exec({ ...spec, argv: ['node', '-e', probe] })).code === 0;
      }, 20_000);

    it('answers `tstan -v` as the image\'s user', async () => {
      const result = await network!.exec({ ...spec, argv: [...runtime.entrypoint!, '-v'] });
      expect(result.code, result.output).toBe(0);
      expect(result.output).toContain(pkg.version);
    });

    it('starts with the default command as the image\'s user, passes its HEALTHCHECK, and stops cleanly on SIGTERM through tini', async () => {
      const container = network!.start(spec);
      const healthcheck = { ...spec, argv: runtime.healthcheck!.argv };
      await until('HEALTHCHECK passes', async () => {
        if (!container.running) throw new Error(`the container exited: ${container.log()}`);
        return (await network!.exec(healthcheck)).code === 0;
      }, 20_000);
      await untilServing();
      // The process tini started runs as the image's user, never root.
      const tiniPid = container.child.pid!;
      const children = readFileSync(`/proc/${tiniPid}/task/${tiniPid}/children`, 'utf8').trim().split(/\s+/);
      expect(children).toHaveLength(1);
      const uid = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${children[0]}/status`, 'utf8'))?.[1];
      expect(Number(uid)).toBe(numericUser(runtime).uid);
      expect(readFileSync(`/proc/${children[0]}/cmdline`, 'utf8').split('\0')).toContain('/opt/tstan/dist/bin/tstan.js');
      expect(await container.stop(10_000), container.log()).toBe(0);
    });

    it('keeps a FILE store on the /data volume, owned by the image\'s user', async () => {
      const container = network!.start({ ...spec, name: 'tstan', argv: [...runtime.entrypoint!, '-store', 'file', '-dir', '/data', '-m', '8222'] });
      const healthcheck = { ...spec, argv: runtime.healthcheck!.argv };
      await until('HEALTHCHECK passes', async () => {
        if (!container.running) throw new Error(`the container exited: ${container.log()}`);
        return (await network!.exec(healthcheck)).code === 0;
      }, 20_000);
      await untilServing();
      expect(await container.stop(10_000), container.log()).toBe(0);
      const volume = join(scratch, 'data');
      const files = readdirSync(volume);
      expect(files).toContain('server.dat');
      for (const file of files) expect(statSync(join(volume, file)).uid, file).toBe(numericUser(runtime).uid);
    });
  });
});

