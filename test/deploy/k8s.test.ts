// Proves deploy/k8s without a Kubernetes cluster:
// - every manifest validates strictly against the Kubernetes API schemas (support/k8s-schema.ts),
//   and a misspelt field or a wrong type is caught (the check bites);
// - kustomization.yaml names exactly the manifests of the directory, and `kubectl kustomize`
//   builds the same objects;
// - the ConfigMap is exactly what render-config.mjs makes of the template, and its configuration
//   file passes `tstan -t` once POD_NAME is set (and fails without it: the file really reads it);
// - the pieces agree with each other and with the image: the peers' headless Service publishes
//   not-ready addresses, selectors match the pod labels, named ports, probes on /healthz and
//   /readyz at the configured monitoring port, the config and data mounts where the command line
//   and the configuration look, a restricted security context with the image's user, Prometheus
//   annotations, a grace period that covers preStop plus a leadership transfer;
// - the StatefulSet's command line, run for three pods (support/netns.ts: each pod a network
//   namespace whose hosts file maps the headless Service's names, the image's entrypoint, the
//   pod's env with POD_NAME from its name, $(VAR) references expanded as the kubelet does, the
//   ConfigMap, a volume claim and an emptyDir mounted where the pod spec says), forms a cluster
//   whose pods all pass their probes; scaling to five as deploy/README.md says (each new pod
//   added through the monitoring port, then started from the ConfigMap rendered with
//   --replicas 5) adds two voters; and SIGTERM to the leader pod moves
//   leadership within the grace period, with acknowledged messages still readable.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chownSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { skipWithout } from '../support/test-deps.js';
import { freePort } from '../support/ports.js';
import { repoRoot } from '../support/tstan-process.js';
import { ContainerNetwork, type Container, type ContainerSpec } from './support/netns.js';
import { numericUser, runtimeStage } from './support/image.js';
import { k8sProblems } from './support/k8s-schema.js';
import { agreedLeader, clusterView, publishThrough, readChannel, until } from './support/cluster-view.js';

const k8sDir = join(repoRoot, 'deploy', 'k8s');
const tstanBin = join(repoRoot, 'dist', 'bin', 'tstan.js');

/** `node deploy/k8s/render-config.mjs --stdout ARGS`: the ConfigMap the README's commands make. */
function renderConfigMap(...args: string[]): string {
  const result = spawnSync(process.execPath, [join(k8sDir, 'render-config.mjs'), '--stdout', ...args], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`render-config.mjs ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = Record<string, any>;

function loadManifests(): Array<{ file: string; object: Obj }> {
  const kustomization = parse(readFileSync(join(k8sDir, 'kustomization.yaml'), 'utf8')) as { resources: string[] };
  return kustomization.resources.flatMap((file) =>
    parseAllDocuments(readFileSync(join(k8sDir, file), 'utf8')).map((doc) => ({ file, object: doc.toJS() as Obj })),
  );
}

const manifests = loadManifests();
const find = (kind: string, name?: string): Obj => {
  const found = manifests.find(({ object }) => object['kind'] === kind && (name === undefined || object['metadata']['name'] === name));
  if (found === undefined) throw new Error(`no ${kind} ${name ?? ''}`);
  return found.object;
};
const statefulSet = find('StatefulSet');
const podSpec = statefulSet['spec']['template']['spec'] as Obj;
const container = podSpec['containers'][0] as Obj;
const configMap = find('ConfigMap');
const peersService = find('Service', statefulSet['spec']['serviceName']);
const clientService = manifests.map(({ object }) => object).find((o) => o['kind'] === 'Service' && o !== peersService)!;
const image = runtimeStage();

/** The container port number behind a port name (or number). */
const portNumber = (port: string | number): number => (typeof port === 'number' ? port : (container['ports'] as Obj[]).find((p) => p['name'] === port)!['containerPort']);

/** The kubelet's expansion of $(VAR) in command and args; $$ escapes. */
function expandVars(word: string, env: Record<string, string>): string {
  return word.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (match, name: string | undefined) => (name === undefined ? '$' : (env[name] ?? match)));
}

/** The container's environment for the pod `podName` (downward API fields it uses resolved). */
function podEnv(podName: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const entry of container['env'] as Obj[]) {
    if (entry['value'] !== undefined) env[entry['name']] = expandVars(String(entry['value']), env);
    else if (entry['valueFrom']?.['fieldRef']?.['fieldPath'] === 'metadata.name') env[entry['name']] = podName;
    else throw new Error(`env ${entry['name']}: the test knows values and metadata.name only`);
  }
  return env;
}

/** The ConfigMap's configuration file, written for `tstan -t` or a mount. */
function confText(map: Obj = configMap): string {
  const keys = Object.keys(map['data']);
  expect(keys).toEqual(['tstan.conf']);
  return map['data']['tstan.conf'] as string;
}

describe('deploy/k8s', () => {
  it('every manifest validates strictly against the Kubernetes API schemas', () => {
    expect(manifests.map(({ object }) => `${object['kind']}/${object['metadata']['name']}`).sort()).toEqual(
      ['ConfigMap/tstan-config', 'PodDisruptionBudget/tstan', 'Service/tstan', 'Service/tstan-peers', 'StatefulSet/tstan'],
    );
    for (const { file, object } of manifests) expect(k8sProblems(object), file).toEqual([]);
  });

  it('the schema check catches a misspelt field, a wrong type and a bad enum value', () => {
    const misspelt = structuredClone(peersService);
    delete misspelt['spec']['publishNotReadyAddresses'];
    misspelt['spec']['publishNotReadyAdresses'] = true;
    expect(k8sProblems(misspelt)).toEqual(['/spec/publishNotReadyAdresses: unknown field']);
    const wrongType = structuredClone(statefulSet);
    wrongType['spec']['replicas'] = '3';
    expect(k8sProblems(wrongType).join('\n')).toContain('replicas');
    const badEnum = structuredClone(statefulSet);
    badEnum['spec']['podManagementPolicy'] = 'parallel';
    expect(k8sProblems(badEnum).join('\n')).toContain('podManagementPolicy');
  });

  it('kustomization.yaml lists exactly the manifests of the directory', () => {
    const kustomization = parse(readFileSync(join(k8sDir, 'kustomization.yaml'), 'utf8')) as { resources: string[]; images: Array<{ name: string }> };
    const yamlFiles = readdirSync(k8sDir).filter((file) => file.endsWith('.yaml') && file !== 'kustomization.yaml');
    expect([...kustomization.resources].sort()).toEqual(yamlFiles.sort());
    // Its image override names the image the StatefulSet uses.
    expect(kustomization.images.map((i) => i.name)).toEqual([String(container['image']).split(':')[0]]);
  });

  it.skipIf(skipWithout('kubectl'))('`kubectl kustomize` builds the same objects', () => {
    const built = spawnSync('kubectl', ['kustomize', k8sDir], { encoding: 'utf8' });
    expect(built.status, built.stderr).toBe(0);
    const objects = parseAllDocuments(built.stdout).map((doc) => doc.toJS() as Obj);
    const key = (o: Obj): string => `${o['kind']}/${o['metadata']['name']}`;
    expect(objects.map(key).sort()).toEqual(manifests.map(({ object }) => key(object)).sort());
    for (const object of objects) expect(object, key(object)).toEqual(manifests.find(({ object: o }) => key(o) === key(object))!.object);
  });

  it('the ConfigMap is render-config.mjs\'s rendering of the template, and its configuration passes `tstan -t`', () => {
    expect(readFileSync(join(k8sDir, 'configmap.yaml'), 'utf8')).toBe(renderConfigMap());
    const dir = mkdtempSync(join(tmpdir(), 'tstan-k8s-conf-'));
    try {
      const file = join(dir, 'tstan.conf');
      writeFileSync(file, confText());
      const check = (env: Record<string, string>) => spawnSync(process.execPath, [tstanBin, '-sc', file, '-t'], { encoding: 'utf8', env: { PATH: process.env['PATH'] ?? '', ...env } });
      const ok = check(podEnv('tstan-0'));
      expect(ok.status, ok.stderr).toBe(0);
      expect(ok.stdout + ok.stderr).toContain('configuration is valid');
      const noPodName = check({});
      expect(noPodName.status).toBe(1);
      expect(noPodName.stderr).toContain('$POD_NAME');
      // The scaling form of the README (five pods) is valid too.
      writeFileSync(file, confText(parse(renderConfigMap('--replicas', '5')) as Obj));
      const scaled = check(podEnv('tstan-4'));
      expect(scaled.status, scaled.stderr).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the peers\' headless Service publishes not-ready addresses: peers find each other before any is ready', () => {
    expect(peersService['spec']['clusterIP']).toBe('None');
    expect(peersService['spec']['publishNotReadyAddresses']).toBe(true);
    // The client Service is not headless and routes only to ready pods.
    expect(clientService['spec']['clusterIP']).toBeUndefined();
    expect(clientService['spec']['publishNotReadyAddresses']).toBeUndefined();
    const conf = confText();
    // The routes of the configuration are the pods' names under the headless Service.
    const replicas = statefulSet['spec']['replicas'] as number;
    for (let i = 0; i < replicas; i++) expect(conf).toContain(`nats://${statefulSet['metadata']['name']}-${i}.${peersService['metadata']['name']}:6222`);
  });

  it('selectors, ports, probes, mounts, security context, scraping and grace period fit together and fit the image', () => {
    const labels = statefulSet['spec']['template']['metadata']['labels'] as Record<string, string>;
    const matches = (selector: Record<string, string>): boolean => Object.entries(selector).every(([k, v]) => labels[k] === v);
    expect(matches(statefulSet['spec']['selector']['matchLabels'])).toBe(true);
    expect(matches(peersService['spec']['selector'])).toBe(true);
    expect(matches(clientService['spec']['selector'])).toBe(true);
    expect(matches(find('PodDisruptionBudget')['spec']['selector']['matchLabels'])).toBe(true);
    expect(find('PodDisruptionBudget')['spec']['maxUnavailable']).toBe(1);

    expect(statefulSet['spec']['replicas']).toBe(3);
    expect(statefulSet['spec']['podManagementPolicy']).toBe('Parallel');
    const conf = confText();
    const monitorPort = Number(/^http_port:\s*(\d+)/m.exec(conf)?.[1]);
    const clientPort = Number(/^port:\s*(\d+)/m.exec(conf)?.[1]);
    expect(portNumber('monitor')).toBe(monitorPort);
    expect(portNumber('client')).toBe(clientPort);
    expect(portNumber('routes')).toBe(Number(/listen:\s*"[^"]*:(\d+)"/.exec(conf)?.[1]));
    for (const service of [peersService, clientService]) for (const port of service['spec']['ports'] as Obj[]) expect(portNumber(port['targetPort'])).toBe(port['port']);

    expect(container['startupProbe']['httpGet']).toEqual({ path: '/healthz', port: 'monitor' });
    expect(container['livenessProbe']['httpGet']).toEqual({ path: '/healthz', port: 'monitor' });
    expect(container['readinessProbe']['httpGet']).toEqual({ path: '/readyz', port: 'monitor' });

    // -sc names the file the ConfigMap volume puts in place; the claim is mounted where the store is.
    const mounts = Object.fromEntries((container['volumeMounts'] as Obj[]).map((m) => [m['name'], m['mountPath']]));
    const configVolume = (podSpec['volumes'] as Obj[]).find((v) => v['configMap']?.['name'] === configMap['metadata']['name'])!;
    expect(container['args']).toEqual(['-sc', `${mounts[configVolume['name']]}/tstan.conf`]);
    expect(container['command']).toBeUndefined();
    expect(statefulSet['spec']['volumeClaimTemplates'].map((t: Obj) => t['metadata']['name'])).toEqual(['data']);
    expect(mounts['data']).toBe(/^\s*dir:\s*"([^"]+)"/m.exec(conf)?.[1]);
    expect(image.volumes).toContain(mounts['data']);
    expect(String(container['image']).split(':')[1]).toBe(JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).version);

    // Restricted: non-root as the image's user, no privilege escalation, no capabilities, the
    // runtime's seccomp profile, a read-only root file system (tstan writes only /data and /tmp).
    const user = numericUser(image);
    expect(podSpec['securityContext']).toMatchObject({ runAsNonRoot: true, runAsUser: user.uid, runAsGroup: user.gid, fsGroup: user.gid, seccompProfile: { type: 'RuntimeDefault' } });
    expect(container['securityContext']).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    expect(mounts['tmp']).toBe('/tmp');
    expect(container['resources']['requests']).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
    expect(container['resources']['limits']).toMatchObject({ memory: expect.any(String) });

    const annotations = statefulSet['spec']['template']['metadata']['annotations'] as Record<string, string>;
    expect(annotations).toEqual({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(monitorPort), 'prometheus.io/path': '/metrics' });

    // preStop, then SIGTERM: draining (about 1 s) and handing leadership over (up to 3 s) must
    // fit in what is left of the grace period, with room to spare.
    const preStop = container['lifecycle']['preStop']['exec']['command'] as string[];
    expect(preStop[0]).toBe('sleep');
    expect(podSpec['terminationGracePeriodSeconds']).toBeGreaterThanOrEqual(Number(preStop[1]) + 4 + 10);
  });

  describe.skipIf(skipWithout('tini', 'netns'))('the StatefulSet run for its pods, each in a network namespace of its own', () => {
    const name = statefulSet['metadata']['name'] as string;
    const service = peersService['metadata']['name'] as string;
    const pods = [0, 1, 2, 3, 4].map((i) => `${name}-${i}`);
    let network: ContainerNetwork | undefined;
    const running = new Map<string, Container>();
    const hostPorts = new Map<string, { client: number; monitor: number }>();
    const monitorUrl = (pod: string): string => `http://127.0.0.1:${hostPorts.get(pod)!.monitor}`;
    const clientUrl = (pod: string): string => `nats://127.0.0.1:${hostPorts.get(pod)!.client}`;

    function startPod(pod: string, map: Obj): Container {
      const env = podEnv(pod);
      const user = { uid: podSpec['securityContext']['runAsUser'] as number, gid: podSpec['securityContext']['runAsGroup'] as number };
      const configDir = network!.dir('pods', pod, 'config');
      for (const [key, value] of Object.entries(map['data'] as Record<string, string>)) writeFileSync(join(configDir, key), value);
      const claim = network!.dir('pods', pod, 'data');
      chownSync(claim, user.uid, podSpec['securityContext']['fsGroup'] as number);
      const tmp = network!.dir('pods', pod, 'tmp');
      chownSync(tmp, user.uid, podSpec['securityContext']['fsGroup'] as number);
      const sources: Record<string, string> = { data: claim, tmp };
      const configVolume = (podSpec['volumes'] as Obj[]).find((v) => v['configMap'] !== undefined)!;
      sources[configVolume['name']] = configDir;
      const spec: ContainerSpec = {
        name: pod,
        argv: [...((container['command'] as string[] | undefined) ?? image.entrypoint!), ...(container['args'] as string[])].map((word) => expandVars(word, env)),
        env: { ...image.env, ...env },
        workdir: image.workdir,
        user,
        mounts: [
          { target: image.workdir, source: repoRoot, readOnly: true },
          ...(container['volumeMounts'] as Obj[]).map((m) => ({ target: m['mountPath'] as string, source: sources[m['name']]!, readOnly: m['readOnly'] === true })),
        ],
      };
      const started = network!.start(spec);
      running.set(pod, started);
      return started;
    }

    async function probe(pod: string, probeName: string): Promise<boolean> {
      const httpGet = container[probeName]['httpGet'] as Obj;
      expect(portNumber(httpGet['port'])).toBe(8222);
      try {
        const response = await fetch(`${monitorUrl(pod)}${httpGet['path']}`, { signal: AbortSignal.timeout(2_000) });
        return response.status >= 200 && response.status < 400;
      } catch {
        return false;
      }
    }

    beforeAll(async () => {
      network = ContainerNetwork.create(pods, (pod) => [pod, `${pod}.${service}`, `${pod}.${service}.default.svc.cluster.local`]);
      for (const pod of pods) hostPorts.set(pod, { client: await freePort(), monitor: await freePort() });
      // What `kubectl port-forward` gives: each pod's client and monitoring ports on the host.
      await network.publish(pods.flatMap((pod) => [
        { container: pod, containerPort: portNumber('client'), hostPort: hostPorts.get(pod)!.client },
        { container: pod, containerPort: portNumber('monitor'), hostPort: hostPorts.get(pod)!.monitor },
      ]));
    });

    afterAll(async () => {
      const leftovers = network === undefined ? [] : (await network.destroy(), network.leftovers());
      expect(leftovers).toEqual([]);
    });

    it('forms a cluster whose pods pass their probes, grows to five voters as the README says, and moves leadership when the leader pod stops', async () => {
      const founders = pods.slice(0, statefulSet['spec']['replicas'] as number);
      for (const pod of founders) startPod(pod, configMap);
      const logs = (): string => [...running.values()].map((c) => `--- ${c.name}\n${c.log().slice(-3000)}`).join('\n');
      const first = await agreedLeader(founders.map(monitorUrl), { quorum: 3, timeoutMs: 60_000 }).catch((error: unknown) => {
        throw new Error(`${String(error)}\n${logs()}`);
      });
      expect(first.views.map((v) => [...v.voters].sort())).toEqual([founders, founders, founders]);
      for (const pod of founders) {
        for (const probeName of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
          await until(`${probeName} of ${pod}`, () => probe(pod, probeName), 15_000);
        }
      }
      for (const pod of founders) await publishThrough(clientUrl(pod), 'test-cluster', `k8s-pub-${pod}`, 'k8s.orders', [`via-${pod}`]);

      // Scaling to five as the README says: each new pod is added through a monitoring port
      // first (allow_add_remove_node is on in the ConfigMap), then the ConfigMap rendered for five
      // pods is applied and the new pods start from it; they rejoin as the members the cluster
      // already knows, catch up and are promoted to voters.
      for (const pod of pods.slice(3)) {
        const response = await fetch(`${monitorUrl(founders[0]!)}/streaming/clusterz/add?node=${pod}`, { signal: AbortSignal.timeout(10_000) });
        const body = (await response.json()) as { answer: string };
        expect(body.answer, JSON.stringify(body)).toBe('+OK');
      }
      const scaled = parse(renderConfigMap('--replicas', '5')) as Obj;
      for (const pod of pods.slice(3)) startPod(pod, scaled);
      await until('five voters', async () => {
        const views = await Promise.all(pods.map((pod) => clusterView(monitorUrl(pod))));
        return views.every((v) => v !== undefined && [...v.voters].sort().join() === pods.join());
      }, 60_000).catch((error: unknown) => {
        throw new Error(`${String(error)}\n${logs()}`);
      });
      for (const pod of pods.slice(3)) await until(`readinessProbe of ${pod}`, () => probe(pod, 'readinessProbe'), 30_000);

      // The kubelet's stop after preStop: SIGTERM, SIGKILL when the rest of the grace period is out.
      const leader = (await agreedLeader(pods.map(monitorUrl), { quorum: 5 })).leader;
      const grace = (podSpec['terminationGracePeriodSeconds'] as number) - Number(container['lifecycle']['preStop']['exec']['command'][1]);
      const stopping = Date.now();
      expect(await running.get(leader)!.stop(grace * 1_000)).toBe(0);
      expect(Date.now() - stopping).toBeLessThan(grace * 1_000);
      const others = pods.filter((pod) => pod !== leader);
      const second = await agreedLeader(others.map(monitorUrl), { quorum: 4, not: [leader], timeoutMs: 30_000 });
      expect(others).toContain(second.leader);
      const values = await readChannel(clientUrl(others[0]!), 'test-cluster', 'k8s-sub', 'k8s.orders', 3);
      expect(values).toEqual(founders.map((pod) => `via-${pod}`));
    }, 150_000);
  });
});
