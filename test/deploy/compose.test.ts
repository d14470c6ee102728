// Proves deploy/docker-compose.yml without a Docker engine:
// - Debian's docker-compose validates it (`config`), with the published ports chosen here;
// - the file runs as written: docker-compose's own resolved form gives each service's command,
//   environment, volumes, ports and health check; each service runs as a container of
//   support/netns.ts (a network namespace whose hosts file maps a, b, c; its named volume a
//   directory of its own at /data; the image's entrypoint and user from deploy/Dockerfile), so the
//   host names and ports of the file are used unchanged;
// - the cluster elects a leader; clients on the host publish through each service's published
//   client port (never the namespaces' addresses), the health check of every service passes, and
//   stopping the leader's container (SIGTERM through tini, as `docker stop`) moves leadership to
//   another node while every acknowledged message stays readable.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chownSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { skipWithout } from '../support/test-deps.js';
import { freePort } from '../support/ports.js';
import { repoRoot } from '../support/tstan-process.js';
import { ContainerNetwork, type Container, type ContainerSpec } from './support/netns.js';
import { numericUser, runtimeStage } from './support/image.js';
import { agreedLeader, publishThrough, readChannel, until } from './support/cluster-view.js';

const composeFile = join(repoRoot, 'deploy', 'docker-compose.yml');
const SERVICES = ['a', 'b', 'c'];

interface ComposeService {
  build?: { context: string; dockerfile: string };
  image?: string;
  hostname?: string;
  command: string[];
  environment?: Record<string, string>;
  volumes: string[];
  ports: Array<{ published: number; target: number; host_ip?: string }>;
  healthcheck: { test: string[]; interval: string };
  stop_grace_period?: string;
}

interface ComposeConfig {
  services: Record<string, ComposeService>;
  volumes: Record<string, unknown>;
}

/** docker-compose's resolved form of the file, with `env` set: interpolation and merges applied. */
function composeConfig(env: Record<string, string>): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync('docker-compose', ['-f', composeFile, 'config'], { encoding: 'utf8', env: { ...process.env, ...env } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe.skipIf(skipWithout('docker-compose', 'tini', 'netns'))('deploy/docker-compose.yml', () => {
  let env: Record<string, string>;
  let config: ComposeConfig;

  beforeAll(async () => {
    env = {};
    for (const service of SERVICES) {
      env[`TSTAN_${service.toUpperCase()}_CLIENT_PORT`] = String(await freePort());
      env[`TSTAN_${service.toUpperCase()}_MONITOR_PORT`] = String(await freePort());
    }
    const result = composeConfig(env);
    expect(result.code, result.stderr).toBe(0);
    config = parse(result.stdout) as ComposeConfig;
  });

  it('is valid for docker-compose, and a broken copy is not (the validation bites)', () => {
    expect(Object.keys(config.services).sort()).toEqual(SERVICES);
    // Defaults when nothing is set: 4222-4224 for clients, 8222-8224 for monitoring.
    const defaults = parse(composeConfig({}).stdout) as ComposeConfig;
    expect(SERVICES.map((s) => defaults.services[s]!.ports.map((p) => p.published))).toEqual([[4222, 8222], [4223, 8223], [4224, 8224]]);
    const broken = spawnSync('docker-compose', ['-f', '-', 'config', '-q'], {
      input: 'services:\n  a:\n    image: x\n    ports: 7\n',
      encoding: 'utf8',
    });
    expect(broken.status).not.toBe(0);
  });

  it('gives every service the clustered command, its own named volume, a health check and published ports', () => {
    for (const name of SERVICES) {
      const service = config.services[name]!;
      const others = SERVICES.filter((s) => s !== name);
      expect(service.build?.dockerfile).toBe('deploy/Dockerfile');
      const command = service.command.join(' ');
      expect(command).toContain(`--clustered --cluster_node_id ${name} --cluster_peers a,b,c`);
      expect(command).toContain('-store file -dir /data');
      expect(command).toContain(`--routes ${others.map((o) => `nats://${o}:6222`).join(',')}`);
      expect(service.volumes).toEqual([`${name}-data:/data:rw`]);
      expect(Object.keys(config.volumes)).toContain(`${name}-data`);
      expect(service.ports.map((p) => p.target).sort()).toEqual([4222, 8222]);
      expect(service.healthcheck.test[0]).toBe('CMD');
      expect(service.healthcheck.test.join(' ')).toContain('/healthz');
    }
  });

  describe('run as written, each service a container in its own network namespace', () => {
    let network: ContainerNetwork | undefined;
    const containers = new Map<string, Container>();
    const specs = new Map<string, ContainerSpec>();
    const hostPort = (service: string, target: number): number => config.services[service]!.ports.find((p) => p.target === target)!.published;
    const monitorUrl = (service: string): string => `http://127.0.0.1:${hostPort(service, 8222)}`;
    const clientUrl = (service: string): string => `nats://127.0.0.1:${hostPort(service, 4222)}`;

    beforeAll(async () => {
      const image = runtimeStage();
      const user = numericUser(image);
      network = ContainerNetwork.create(SERVICES);
      for (const name of SERVICES) {
        const service = config.services[name]!;
        const mounts = [{ target: image.workdir, source: repoRoot, readOnly: true }];
        for (const volume of service.volumes) {
          const [source, target] = volume.split(':') as [string, string];
          expect(source.startsWith('/') || source.startsWith('.'), 'named volumes only').toBe(false);
          // A named volume starts as the image's directory: owned by the image's user.
          const dir = network.dir('volumes', source);
          chownSync(dir, user.uid, user.gid);
          mounts.push({ target, source: dir, readOnly: false });
        }
        const spec: ContainerSpec = {
          name: service.hostname ?? name,
          argv: [...image.entrypoint!, ...service.command],
          env: { ...image.env, ...service.environment },
          workdir: image.workdir,
          mounts,
          user,
        };
        specs.set(name, spec);
        containers.set(name, network.start(spec));
      }
      await network.publish(SERVICES.flatMap((name) => config.services[name]!.ports.map((p) => ({ container: name, containerPort: p.target, hostPort: p.published }))));
    }, 30_000);

    afterAll(async () => {
      const leftovers = network === undefined ? [] : (await network.destroy(), network.leftovers());
      expect(leftovers).toEqual([]);
    });

    it('elects a leader, serves clients through the host\'s published ports, and moves leadership when the leader stops', async () => {
      const urls = SERVICES.map(monitorUrl);
      const first = await agreedLeader(urls, { quorum: 3, timeoutMs: 60_000 }).catch((error: unknown) => {
        throw new Error(`${String(error)}\n${[...containers.values()].map((c) => `--- ${c.name}\n${c.log().slice(-3000)}`).join('\n')}`);
      });
      expect(first.views.map((v) => v.voters.sort())).toEqual([SERVICES, SERVICES, SERVICES]);

      // Every service's health check, run as the compose file states it, inside its container.
      for (const name of SERVICES) {
        const test = config.services[name]!.healthcheck.test.slice(1);
        await until(`health check of ${name}`, async () => (await network!.exec({ ...specs.get(name)!, argv: test })).code === 0, 15_000);
      }

      // A client on the host, through each service's published client port.
      for (const name of SERVICES) await publishThrough(clientUrl(name), 'test-cluster', `compose-pub-${name}`, 'compose.orders', [`via-${name}`]);

      // `docker stop` of the leader: SIGTERM to the container's first process (tini).
      const leaderContainer = containers.get(first.leader)!;
      const exitCode = await leaderContainer.stop(20_000);
      expect(exitCode).toBe(0);
      const survivors = SERVICES.filter((s) => s !== first.leader);
      const second = await agreedLeader(survivors.map(monitorUrl), { quorum: 2, not: [first.leader], timeoutMs: 30_000 });
      expect(survivors).toContain(second.leader);
      expect(Math.max(...second.views.map((v) => v.term))).toBeGreaterThan(Math.max(...first.views.map((v) => v.term)));

      await publishThrough(clientUrl(survivors[0]!), 'test-cluster', 'compose-pub-after', 'compose.orders', ['after-stop']);
      const values = await readChannel(clientUrl(survivors[1]!), 'test-cluster', 'compose-sub', 'compose.orders', 4);
      expect(values).toEqual(['via-a', 'via-b', 'via-c', 'after-stop']);
    }, 120_000);
  });
});
