#!/usr/bin/env node
// Renders tstan.conf.template into configmap.yaml, the ConfigMap the StatefulSet mounts at
// /etc/tstan. The configuration lives in the ConfigMap, never in the image.
//
//   node deploy/k8s/render-config.mjs                      # 3 replicas (the committed file)
//   node deploy/k8s/render-config.mjs --replicas 5 --stdout
//
// --replicas N   routes to and peers of the pods tstan-0 .. tstan-(N-1)   (default 3)
// --name NAME    the StatefulSet's name, which prefixes the pods    (default tstan)
// --service NAME the headless peer Service                          (default <name>-peers)
// --cluster-id   the streaming cluster ID clients connect with      (default test-cluster)
// --stdout       print the ConfigMap instead of writing configmap.yaml
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** The ConfigMap text for the given settings. */
export function renderConfigMap({ replicas = 3, name = 'tstan', service = `${name}-peers`, clusterId = 'test-cluster' } = {}) {
  if (!Number.isInteger(replicas) || replicas < 1) throw new Error(`--replicas must be a positive integer, not ${replicas}`);
  for (const [what, value] of [['name', name], ['service', service], ['cluster-id', clusterId]]) {
    if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(value)) throw new Error(`--${what} must be a DNS label, not ${JSON.stringify(value)}`);
  }
  const pods = Array.from({ length: replicas }, (_, i) => `${name}-${i}`);
  const conf = readFileSync(join(here, 'tstan.conf.template'), 'utf8')
    .replaceAll('{{ROUTES}}', pods.map((pod) => `"nats://${pod}.${service}:6222"`).join(', '))
    .replaceAll('{{PEERS}}', pods.join(', '))
    .replaceAll('{{CLUSTER_ID}}', clusterId);
  const unfilled = /\{\{[A-Z_]+\}\}/.exec(conf);
  if (unfilled) throw new Error(`tstan.conf.template: ${unfilled[0]} has no value`);
  const indented = conf.trimEnd().split('\n').map((line) => (line === '' ? '' : `    ${line}`)).join('\n');
  return [
    '# Rendered by deploy/k8s/render-config.mjs from tstan.conf.template: edit those, not this file.',
    'apiVersion: v1',
    'kind: ConfigMap',
    'metadata:',
    `  name: ${name}-config`,
    '  labels:',
    `    app.kubernetes.io/name: ${name}`,
    'data:',
    '  tstan.conf: |',
    indented,
    '',
  ].join('\n');
}

function parseArgs(argv) {
  const settings = {};
  let stdout = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const next = argv[++i];
      if (next === undefined) throw new Error(`${arg} needs a value`);
      return next;
    };
    if (arg === '--replicas') settings.replicas = Number(value());
    else if (arg === '--name') settings.name = value();
    else if (arg === '--service') settings.service = value();
    else if (arg === '--cluster-id') settings.clusterId = value();
    else if (arg === '--stdout') stdout = true;
    else throw new Error(`unknown argument ${arg}`);
  }
  return { settings, stdout };
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    const { settings, stdout } = parseArgs(process.argv.slice(2));
    const text = renderConfigMap(settings);
    if (stdout) process.stdout.write(text);
    else writeFileSync(join(here, 'configmap.yaml'), text);
  } catch (error) {
    process.stderr.write(`render-config: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}
