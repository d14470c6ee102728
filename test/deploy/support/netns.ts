// Containers without a container engine, for the deploy tests: each container (a compose service,
// a Kubernetes pod) is a process in a network namespace of its own, on a bridge that lives in one
// more namespace (the "container network"), with the host names of the deployment in
// /etc/netns/<ns>/hosts (which `ip netns exec` shows as /etc/hosts). Its file system is the host's
// seen through a private mount namespace and chroot, with the volumes, config files and image
// directories mounted at the paths the deployment files name, so command lines run unchanged. A
// published port is a listener on the host's loopback that hands each connection to a forwarder
// in the container network, which connects to the container's address: what Docker's userland
// proxy does.
//
// Nothing here touches the host's own network configuration: every link is created inside the
// namespaces (no interface ever appears on the host), addresses live only there, and the host
// reaches the containers only through the published-port listeners (unix sockets cross network
// namespaces). Names carry the test process's pid and a random part, so parallel runs never meet.
// destroy() stops every process in the namespaces, deletes them and their /etc/netns entries; an
// exit or signal handler does the same if the test process ends without it.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, lstatSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';

const forwarderScript = fileURLToPath(new URL('./forwarder.mjs', import.meta.url));
const SUBNET = '10.89.0';
const IMAGE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Quotes one word for /bin/sh. */
export function shQuote(word: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

function run(command: string, args: readonly string[]): string {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')}: ${(result.stderr || result.error?.message || '').trim()}`);
  return result.stdout;
}

const live = new Set<ContainerNetwork>();
const destroyLive = (): void => {
  for (const network of live) network.destroySync();
};
process.once('exit', destroyLive);
// Killed by a signal (an interrupted run): clean up, then let the signal do what it would have.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => {
    destroyLive();
    process.kill(process.pid, signal);
  });
}

export interface Mount {
  /** Path inside the container. */
  readonly target: string;
  /** Host file or directory shown there. */
  readonly source: string;
  readonly readOnly?: boolean;
}

export interface ContainerSpec {
  /** The container's name in the network (its host name). */
  readonly name: string;
  /** Entrypoint and command, as the container would exec them. */
  readonly argv: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  readonly workdir?: string;
  readonly mounts?: readonly Mount[];
  /** Numeric user and group the process runs as (default root). */
  readonly user?: { readonly uid: number; readonly gid: number };
}

export interface PublishedPort {
  readonly container: string;
  readonly containerPort: number;
  readonly hostPort: number;
}

/**
 * The mount script: a tmpfs root that shows every entry of the host's `/`, with each mount target
 * created where the host has no such path (its parent directories become tmpfs copies of theirs,
 * so nothing is ever created on the host), then the mounts, then chroot and exec.
 */
export function containerScript(root: string, spec: ContainerSpec): string {
  const mounts = spec.mounts ?? [];
  // Directories whose entries must be copied into a tmpfs so that a new entry can be made in them.
  const synthetic = new Set<string>(['/']);
  for (const mount of mounts) {
    const parts = mount.target.split('/').filter((part) => part !== '');
    for (let i = 0; i < parts.length; i++) {
      const path = `/${parts.slice(0, i + 1).join('/')}`;
      if (!existsSync(path)) {
        for (let j = 1; j <= i; j++) synthetic.add(`/${parts.slice(0, j).join('/')}`);
        break;
      }
    }
  }
  const lines = [
    'set -e',
    `R=${shQuote(root)}`,
    // Copies the entries of host directory $1 into a fresh tmpfs at $2: directories and files as
    // bind mounts, symbolic links as links.
    'synth() {',
    '  mount -t tmpfs -o mode=755 tstan-rootfs "$2"',
    '  for e in "$1"/* "$1"/.[!.]*; do',
    '    [ -e "$e" ] || [ -L "$e" ] || continue',
    '    n=${e##*/}',
    '    if [ -L "$e" ]; then ln -s "$(readlink "$e")" "$2/$n"',
    '    elif [ -d "$e" ]; then mkdir "$2/$n"; mount --rbind "$e" "$2/$n"',
    '    else touch "$2/$n"; mount --bind "$e" "$2/$n"; fi',
    '  done',
    '}',
  ];
  for (const dir of [...synthetic].sort((a, b) => a.split('/').length - b.split('/').length || a.localeCompare(b))) {
    lines.push(`synth ${shQuote(dir)} "$R"${shQuote(dir === '/' ? '' : dir)}`);
  }
  for (const mount of mounts) {
    const target = `"$R"${shQuote(posix.normalize(mount.target))}`;
    const isDir = lstatSync(mount.source).isDirectory();
    lines.push(isDir ? `mkdir -p ${target}` : `[ -e ${target} ] || { mkdir -p "$(dirname ${target})"; touch ${target}; }`);
    lines.push(`mount --bind ${shQuote(mount.source)} ${target}`);
    if (mount.readOnly === true) lines.push(`mount -o remount,bind,ro ${target}`);
  }
  lines.push(`hostname ${shQuote(spec.name)}`);
  const env = { PATH: IMAGE_PATH, HOSTNAME: spec.name, HOME: spec.user === undefined ? '/root' : '/', ...spec.env };
  const userspec = spec.user === undefined ? '' : `--userspec=${spec.user.uid}:${spec.user.gid} `;
  lines.push(
    `exec chroot ${userspec}"$R" /usr/bin/env -i ${Object.entries(env).map(([k, v]) => shQuote(`${k}=${v}`)).join(' ')} ` +
      `/bin/sh -c 'cd "$0" && exec "$@"' ${shQuote(spec.workdir ?? '/')} ${spec.argv.map(shQuote).join(' ')}`,
  );
  return lines.join('\n');
}

export class Container {
  private exited = false;
  constructor(
    readonly name: string,
    readonly address: string,
    readonly child: ChildProcess,
    readonly logFile: string,
  ) {
    child.once('exit', () => (this.exited = true));
  }

  get running(): boolean {
    return !this.exited && this.child.exitCode === null && this.child.signalCode === null;
  }

  log(): string {
    return existsSync(this.logFile) ? readFileSync(this.logFile, 'utf8') : '';
  }

  /** `docker stop`: SIGTERM to the container's first process, SIGKILL after `graceMs`. */
  async stop(graceMs = 20_000): Promise<number | null> {
    if (!this.running) return this.child.exitCode;
    const exit = new Promise<number | null>((resolve) => this.child.once('exit', (code) => resolve(code)));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    const code = await exit;
    clearTimeout(timer);
    return code;
  }
}

/** A bridge namespace and one namespace per container name, with host names for all of them. */
export class ContainerNetwork {
  readonly prefix: string;
  readonly runDir: string;
  readonly bridgeNs: string;
  private readonly namespaces: string[] = [];
  private readonly addresses = new Map<string, string>();
  private readonly containers: Container[] = [];
  private readonly servers: Server[] = [];
  private readonly sockets = new Set<Socket>();
  private forwarder: ChildProcess | undefined;
  private destroyed = false;

  private constructor(readonly names: readonly string[]) {
    this.prefix = `tstan${process.pid.toString(36)}${randomBytes(3).toString('hex')}`;
    this.runDir = mkdtempSync(join(tmpdir(), `${this.prefix}-`));
    this.bridgeNs = `${this.prefix}-net`;
  }

  /**
   * Makes the namespaces. `aliases(name)` lists every host name a container answers to (its
   * name at least); every container's hosts file maps all of them.
   */
  static create(names: readonly string[], aliases: (name: string) => readonly string[] = (name) => [name]): ContainerNetwork {
    const network = new ContainerNetwork(names);
    live.add(network);
    try {
      network.setUp(aliases);
    } catch (error) {
      network.destroySync();
      throw error;
    }
    return network;
  }

  nsOf(name: string): string {
    return `${this.prefix}-${name}`;
  }

  addressOf(name: string): string {
    const address = this.addresses.get(name);
    if (address === undefined) throw new Error(`no container ${name}`);
    return address;
  }

  private setUp(aliases: (name: string) => readonly string[]): void {
    const br = this.bridgeNs;
    run('ip', ['netns', 'add', br]);
    this.namespaces.push(br);
    run('ip', ['-n', br, 'link', 'set', 'lo', 'up']);
    run('ip', ['-n', br, 'link', 'add', 'br0', 'type', 'bridge']);
    run('ip', ['-n', br, 'addr', 'add', `${SUBNET}.1/24`, 'dev', 'br0']);
    run('ip', ['-n', br, 'link', 'set', 'br0', 'up']);
    this.names.forEach((name, i) => this.addresses.set(name, `${SUBNET}.${i + 2}`));
    const hosts = ['127.0.0.1 localhost', '::1 localhost ip6-localhost ip6-loopback'];
    for (const name of this.names) hosts.push(`${this.addressOf(name)} ${aliases(name).join(' ')}`);
    this.names.forEach((name, i) => {
      const ns = this.nsOf(name);
      run('ip', ['netns', 'add', ns]);
      this.namespaces.push(ns);
      // Both ends are made inside the namespaces: the host never sees either.
      run('ip', ['-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', `veth${i}`, 'netns', br]);
      run('ip', ['-n', br, 'link', 'set', `veth${i}`, 'master', 'br0']);
      run('ip', ['-n', br, 'link', 'set', `veth${i}`, 'up']);
      run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
      run('ip', ['-n', ns, 'addr', 'add', `${this.addressOf(name)}/24`, 'dev', 'eth0']);
      run('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
      const etc = join('/etc/netns', ns);
      mkdirSync(etc, { recursive: true });
      writeFileSync(join(etc, 'hosts'), `${hosts.join('\n')}\n`);
    });
  }

  /** Starts a container; its output goes to `<runDir>/<name>.log`. */
  start(spec: ContainerSpec): Container {
    const root = join(this.runDir, 'roots', `${spec.name}-${randomBytes(2).toString('hex')}`);
    mkdirSync(root, { recursive: true });
    const logFile = join(this.runDir, `${spec.name}.log`);
    const log = openSync(logFile, 'a');
    const child = spawn('ip', ['netns', 'exec', this.nsOf(spec.name), 'unshare', '--uts', '/bin/sh', '-c', containerScript(root, spec)], {
      stdio: ['ignore', log, log],
    });
    closeSync(log);
    const container = new Container(spec.name, this.addressOf(spec.name), child, logFile);
    this.containers.push(container);
    return container;
  }

  /** Runs a command to completion in a container's namespace and file system (`docker exec`). */
  async exec(spec: ContainerSpec, timeoutMs = 10_000): Promise<{ code: number | null; output: string }> {
    const root = join(this.runDir, 'roots', `${spec.name}-exec-${randomBytes(2).toString('hex')}`);
    mkdirSync(root, { recursive: true });
    const child = spawn('ip', ['netns', 'exec', this.nsOf(spec.name), 'unshare', '--uts', '/bin/sh', '-c', containerScript(root, spec)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    clearTimeout(timer);
    return { code, output };
  }

  /**
   * Publishes container ports on the host's loopback. The forwarder runs in the container network
   * and connects to each container's address; the host side reaches it through a unix socket.
   */
  async publish(ports: readonly PublishedPort[]): Promise<void> {
    if (this.forwarder !== undefined) throw new Error('ports are published once per network');
    const socketDir = join(this.runDir, 'ports');
    mkdirSync(socketDir, { recursive: true });
    const routes = ports.map((port) => ({ ...port, socket: join(socketDir, `${port.container}-${port.containerPort}.sock`) }));
    const forwarder = spawn(
      'ip',
      ['netns', 'exec', this.bridgeNs, process.execPath, forwarderScript, ...routes.map((r) => `${r.socket}=${this.addressOf(r.container)}:${r.containerPort}`)],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    this.forwarder = forwarder;
    await new Promise<void>((resolve, reject) => {
      let out = '';
      forwarder.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('ready\n')) resolve();
      });
      forwarder.once('exit', (code) => reject(new Error(`port forwarder exited (${code}) before it was ready`)));
    });
    for (const route of routes) {
      const server = createServer((client) => {
        this.sockets.add(client);
        const upstream = createConnection(route.socket);
        this.sockets.add(upstream);
        const end = (): void => {
          client.destroy();
          upstream.destroy();
          this.sockets.delete(client);
          this.sockets.delete(upstream);
        };
        client.on('error', end).on('close', end);
        upstream.on('error', end).on('close', end);
        client.pipe(upstream);
        upstream.pipe(client);
      });
      this.servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(route.hostPort, '127.0.0.1', () => resolve());
      });
    }
  }

  /** Stops every container (gracefully, then by force), the port listeners, and removes everything. */
  async destroy(): Promise<void> {
    await Promise.all(this.containers.map((container) => container.stop(10_000).catch(() => undefined)));
    for (const socket of this.sockets) socket.destroy();
    await Promise.all(this.servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
    this.destroySync();
  }

  /** Kills whatever still runs in the namespaces, deletes them, their /etc/netns entries and the run directory. */
  destroySync(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    live.delete(this);
    this.forwarder?.kill('SIGKILL');
    for (const container of this.containers) if (container.running) container.child.kill('SIGKILL');
    for (const ns of this.namespaces) {
      const pids = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).stdout ?? '';
      for (const pid of pids.split(/\s+/).filter((p) => /^\d+$/.test(p))) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    // A namespace is deleted once its processes are gone; wait for them (bounded).
    for (const ns of this.namespaces) {
      const deadline = Date.now() + 5_000;
      while ((spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).stdout ?? '').trim() !== '' && Date.now() < deadline) {
        spawnSync('sleep', ['0.05']);
      }
      spawnSync('ip', ['netns', 'del', ns]);
      rmSync(join('/etc/netns', ns), { recursive: true, force: true });
    }
    rmSync(this.runDir, { recursive: true, force: true });
  }

  /** Names of this network's namespaces still present on the host (for the cleanup check). */
  leftovers(): string[] {
    const listed = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout ?? '';
    const names = listed.split('\n').map((line) => line.split(' ')[0] ?? '').filter((name) => name.startsWith(this.prefix));
    const etc = this.namespaces.filter((ns) => existsSync(join('/etc/netns', ns))).map((ns) => `/etc/netns/${ns}`);
    return [...names, ...etc, ...(existsSync(this.runDir) ? [this.runDir] : [])];
  }

  /** A directory under the run directory (volumes, config files). */
  dir(...parts: string[]): string {
    const path = join(this.runDir, ...parts);
    mkdirSync(path, { recursive: true });
    return path;
  }
}

