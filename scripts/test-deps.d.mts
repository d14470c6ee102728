// Types of scripts/test-deps.mjs, which runs under plain node as npm's pretest (before any build).
export type TestToolName = 'nats-server' | 'openssl' | 'libnats-dev' | 'cc' | 'docker-compose' | 'tini' | 'promtool' | 'kubectl' | 'netns' | 'python-cryptography' | 'chromium' | 'faketime';

export interface TestTool {
  readonly name: TestToolName;
  readonly packages: readonly string[];
  readonly usedBy: string;
  present(env?: NodeJS.ProcessEnv, includeDirs?: readonly string[]): boolean;
}

export declare function libfaketimePath(libDirs?: readonly string[]): string | undefined;
export declare function onPath(command: string, env?: NodeJS.ProcessEnv): boolean;
export declare const testTools: readonly TestTool[];
export declare function missingTestTools(names?: readonly TestToolName[], env?: NodeJS.ProcessEnv): TestTool[];
export declare function testDepsRequired(env?: NodeJS.ProcessEnv): boolean;
export declare function installCommand(missing: readonly TestTool[]): string;
export declare function missingToolsLine(missing: readonly TestTool[]): string;
export declare function ensureTestTools(env?: NodeJS.ProcessEnv): { missing: TestTool[]; reason: string };
