// Kubernetes manifests checked against the API's schemas (the kubernetes-models package: the
// OpenAPI definitions of the API server compiled to validators), strictly: besides types, enums
// and required fields, a field the schema does not define is an error, as `kubectl apply
// --validate=strict` makes it. The compiled validators read every field their schema defines, so a
// field of the manifest that validation never read is one the schema does not know.
import { ConfigMap, Service } from 'kubernetes-models/v1';
import { StatefulSet } from 'kubernetes-models/apps/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { validate as validateConfigMap } from 'kubernetes-models/_schemas/IoK8sApiCoreV1ConfigMap';
import { validate as validateService } from 'kubernetes-models/_schemas/IoK8sApiCoreV1Service';
import { validate as validateStatefulSet } from 'kubernetes-models/_schemas/IoK8sApiAppsV1StatefulSet';
import { validate as validatePdb } from 'kubernetes-models/_schemas/IoK8sApiPolicyV1PodDisruptionBudget';

type SchemaValidate = ((data: unknown) => boolean) & { errors?: Array<{ instancePath: string; message?: string; keyword: string; params: unknown }> | null };

interface Kind {
  readonly schema: SchemaValidate;
  readonly model: new (data: Record<string, unknown>) => { validate(): void };
}

const kinds: Record<string, Kind> = {
  'v1/ConfigMap': { schema: validateConfigMap as SchemaValidate, model: ConfigMap as unknown as Kind['model'] },
  'v1/Service': { schema: validateService as SchemaValidate, model: Service as unknown as Kind['model'] },
  'apps/v1/StatefulSet': { schema: validateStatefulSet as SchemaValidate, model: StatefulSet as unknown as Kind['model'] },
  'policy/v1/PodDisruptionBudget': { schema: validatePdb as SchemaValidate, model: PodDisruptionBudget as unknown as Kind['model'] },
};

export const knownKinds = Object.keys(kinds);

/** Wraps `value` so that every property read is recorded as a JSON pointer. */
function recording(value: unknown, path: string, read: Set<string>): unknown {
  if (value === null || typeof value !== 'object') return value;
  return new Proxy(value as object, {
    get(target, key, receiver) {
      const child = Reflect.get(target, key, receiver) as unknown;
      if (typeof key !== 'string' || !Object.prototype.hasOwnProperty.call(target, key)) return child;
      const childPath = `${path}/${key}`;
      read.add(childPath);
      return recording(child, childPath, read);
    },
  });
}

function fieldsOf(value: unknown, path: string, out: string[]): string[] {
  if (value === null || typeof value !== 'object') return out;
  for (const [key, child] of Object.entries(value)) {
    out.push(`${path}/${key}`);
    fieldsOf(child, `${path}/${key}`, out);
  }
  return out;
}

/** The problems of one manifest: schema errors, and fields the schema does not define. */
export function k8sProblems(manifest: Record<string, unknown>): string[] {
  const key = `${String(manifest['apiVersion'])}/${String(manifest['kind'])}`;
  const kind = kinds[key];
  if (kind === undefined) return [`no schema here for ${key}`];
  const problems: string[] = [];
  try {
    new kind.model(manifest).validate();
  } catch (error) {
    problems.push(String(error instanceof Error ? error.message : error));
  }
  const read = new Set<string>();
  if (!kind.schema(recording(manifest, '', read))) {
    for (const error of kind.schema.errors ?? []) problems.push(`${error.instancePath || '/'}: ${error.message ?? error.keyword} ${JSON.stringify(error.params)}`);
  }
  if (problems.length === 0) {
    for (const field of fieldsOf(manifest, '', [])) if (!read.has(field)) problems.push(`${field}: unknown field`);
  }
  return [...new Set(problems)];
}
