// deploy/Dockerfile read with a real Dockerfile parser (dockerfile-ast), and what its runtime
// stage makes of a container: working directory, environment, user, entrypoint, default command,
// health check, volumes and ports. The deploy tests start containers from this, so the compose
// file and the StatefulSet run with the image's entrypoint as the Dockerfile states it.
import { DockerfileParser, type Instruction } from 'dockerfile-ast';
import { readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { repoRoot } from '../../support/tstan-process.js';

export const dockerfilePath = join(repoRoot, 'deploy', 'Dockerfile');

export interface CopyStep {
  /** The stage copied from (`--from=`), or undefined for the build context. */
  readonly from: string | undefined;
  readonly sources: readonly string[];
  /** Absolute destination in the image. */
  readonly dest: string;
}

export interface Stage {
  readonly name: string;
  readonly base: string;
  readonly instructions: readonly Instruction[];
  readonly workdir: string;
  readonly env: Readonly<Record<string, string>>;
  readonly user: string | undefined;
  readonly copies: readonly CopyStep[];
  /** RUN commands in order, with the WORKDIR they run in. */
  readonly runs: ReadonlyArray<{ readonly command: string; readonly workdir: string }>;
  /** The order of COPY and RUN steps, as indexes into copies and runs. */
  readonly steps: ReadonlyArray<{ readonly kind: 'copy' | 'run'; readonly index: number }>;
  readonly entrypoint: readonly string[] | undefined;
  readonly cmd: readonly string[] | undefined;
  readonly healthcheck: { readonly argv: readonly string[]; readonly flags: Readonly<Record<string, string>> } | undefined;
  readonly volumes: readonly string[];
  readonly expose: readonly number[];
}

/** The exec form (`["a", "b"]`) of an instruction's arguments; throws on the shell form. */
function execForm(text: string, what: string): string[] {
  const trimmed = text.trim();
  if (!trimmed.startsWith('[')) throw new Error(`${what} must use the exec form (a JSON array), not: ${trimmed}`);
  const parsed = JSON.parse(trimmed) as unknown;
  if (!Array.isArray(parsed) || !parsed.every((word) => typeof word === 'string')) throw new Error(`${what}: not an array of strings`);
  return parsed;
}

function flagsOf(instruction: Instruction): Record<string, string> {
  const flags: Record<string, string> = {};
  const withFlags = instruction as unknown as { getFlags?(): Array<{ getName(): string; getValue(): string | null }> };
  for (const flag of withFlags.getFlags?.() ?? []) flags[flag.getName()] = flag.getValue() ?? '';
  return flags;
}

export function parseDockerfile(text = readFileSync(dockerfilePath, 'utf8')): Stage[] {
  const dockerfile = DockerfileParser.parse(text);
  const args = new Map<string, string>();
  const stages: Stage[] = [];
  let current: {
    name: string; base: string; instructions: Instruction[]; workdir: string; env: Record<string, string>; user: string | undefined;
    copies: CopyStep[]; runs: Array<{ command: string; workdir: string }>; steps: Array<{ kind: 'copy' | 'run'; index: number }>;
    entrypoint: string[] | undefined; cmd: string[] | undefined; healthcheck: Stage['healthcheck']; volumes: string[]; expose: number[];
  } | undefined;
  const expand = (value: string): string => value.replace(/\$\{(\w+)\}|\$(\w+)/g, (_m, a: string | undefined, b: string | undefined) => args.get((a ?? b)!) ?? current?.env[(a ?? b)!] ?? '');
  for (const instruction of dockerfile.getInstructions()) {
    const keyword = instruction.getKeyword();
    const content = instruction.getArgumentsContent() ?? '';
    if (keyword === 'ARG' && current === undefined) {
      const [name, value = ''] = content.split('=');
      args.set(name!.trim(), value.trim());
      continue;
    }
    if (keyword === 'FROM') {
      const words = instruction.getArguments().map((a) => a.getValue());
      current = {
        name: words.length >= 3 && words[1]!.toUpperCase() === 'AS' ? words[2]! : String(stages.length),
        base: expand(words[0]!), instructions: [], workdir: '/', env: {}, user: undefined, copies: [], runs: [], steps: [],
        entrypoint: undefined, cmd: undefined, healthcheck: undefined, volumes: [], expose: [],
      };
      stages.push(current as unknown as Stage);
      continue;
    }
    if (current === undefined) throw new Error(`${keyword} before FROM`);
    const stage = current;
    stage.instructions.push(instruction);
    switch (keyword) {
      case 'WORKDIR':
        stage.workdir = posix.resolve(stage.workdir, expand(content.trim()));
        break;
      case 'ENV':
        for (const match of content.matchAll(/(\w+)=("[^"]*"|\S+)/g)) stage.env[match[1]!] = match[2]!.replace(/^"|"$/g, '');
        break;
      case 'USER':
        stage.user = content.trim();
        break;
      case 'COPY': {
        const from = flagsOf(instruction)['from'];
        const words = instruction.getArguments().map((a) => a.getValue()).filter((word) => !word.startsWith('--'));
        const dest = posix.resolve(stage.workdir, words.at(-1)!);
        stage.steps.push({ kind: 'copy', index: stage.copies.length });
        stage.copies.push({ from, sources: words.slice(0, -1), dest: words.at(-1)!.endsWith('/') ? `${dest}/` : dest });
        break;
      }
      case 'RUN':
        stage.steps.push({ kind: 'run', index: stage.runs.length });
        stage.runs.push({ command: content.replace(/\s+/g, ' ').trim(), workdir: stage.workdir });
        break;
      case 'ENTRYPOINT':
        stage.entrypoint = execForm(content, 'ENTRYPOINT');
        break;
      case 'CMD':
        stage.cmd = execForm(content, 'CMD');
        break;
      case 'HEALTHCHECK': {
        const flags = flagsOf(instruction);
        const cmd = /(?:^|\s)CMD\s+([\s\S]*)$/.exec(content)?.[1];
        if (cmd === undefined) throw new Error(`HEALTHCHECK without CMD: ${content}`);
        stage.healthcheck = { argv: execForm(cmd, 'HEALTHCHECK CMD'), flags };
        break;
      }
      case 'VOLUME':
        stage.volumes.push(...(content.trim().startsWith('[') ? execForm(content, 'VOLUME') : content.trim().split(/\s+/)));
        break;
      case 'EXPOSE':
        stage.expose.push(...content.trim().split(/\s+/).map((port) => Number(port.split('/')[0])));
        break;
      default:
        break;
    }
  }
  return stages;
}

/** The image the Dockerfile builds: its last stage. */
export function runtimeStage(stages = parseDockerfile()): Stage {
  const last = stages.at(-1);
  if (last === undefined) throw new Error('the Dockerfile has no stage');
  return last;
}

/** USER as numbers (`uid[:gid]`); a name cannot be checked by Kubernetes' runAsNonRoot. */
export function numericUser(stage: Stage): { uid: number; gid: number } {
  const match = /^(\d+)(?::(\d+))?$/.exec(stage.user ?? '');
  if (match === null) throw new Error(`USER must be numeric uid[:gid], not ${JSON.stringify(stage.user)}`);
  const uid = Number(match[1]);
  return { uid, gid: match[2] === undefined ? uid : Number(match[2]) };
}
