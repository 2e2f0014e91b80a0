import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

/** The slice of LSP this test needs (shapes as the protocol sends them). */
export interface LspDiagnostic {
  range: { start: { line: number; character: number }; end: { line: number; character: number } };
  message: string;
  severity?: number;
}

export interface LspCompletionItem {
  label: string;
  insertText?: string;
  textEdit?: { newText: string };
  documentation?: string | { kind: string; value: string };
}

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void };

/**
 * The real yaml-language-server (what the VS Code YAML extension runs), driven
 * over stdio JSON-RPC: one process, many documents, so a test file pays the
 * start-up once.
 */
export class YamlLanguageServer {
  private nextId = 1;
  private buffer = Buffer.alloc(0);
  private readonly pending = new Map<number, Pending>();
  private readonly waiters = new Map<string, Array<(d: LspDiagnostic[]) => void>>();
  private readonly versions = new Map<string, number>();
  private readonly stderr: string[] = [];
  private settings: Record<string, unknown> = {};
  private onConfigured: () => void = () => undefined;

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    child.stdout.on('data', (chunk: Buffer) => this.onData(chunk));
    child.stderr.on('data', (chunk: Buffer) => this.stderr.push(chunk.toString()));
    child.on('exit', (code) => {
      for (const p of this.pending.values()) p.reject(new Error(`yaml-language-server exited (${code}): ${this.stderr.join('')}`));
      this.pending.clear();
    });
  }

  /** Starts the server and maps `schemaFile` onto every YAML document it is shown. */
  static async start(schemaFile: string, signal?: AbortSignal): Promise<YamlLanguageServer> {
    const require = createRequire(import.meta.url);
    const pkg = require.resolve('yaml-language-server/package.json');
    const bin = path.join(path.dirname(pkg), 'bin', 'yaml-language-server');
    const child = spawn(process.execPath, [bin, '--stdio'], { stdio: 'pipe', signal });
    const server = new YamlLanguageServer(child);
    await server.request('initialize', {
      processId: process.pid,
      rootUri: null,
      capabilities: {
        workspace: { configuration: true },
        textDocument: {
          completion: { completionItem: { snippetSupport: true, documentationFormat: ['markdown', 'plaintext'] } },
          hover: { contentFormat: ['markdown', 'plaintext'] },
          publishDiagnostics: {},
        },
      },
    });
    server.settings = {
      yaml: {
        validate: true,
        completion: true,
        hover: true,
        schemaStore: { enable: false },
        schemas: { [pathToFileURL(schemaFile).href]: ['*.yaml'] },
      },
    };
    const configured = new Promise<void>((resolve) => (server.onConfigured = resolve));
    server.notify('initialized', {});
    // The server ignores the notification's payload and pulls `workspace/configuration` (answered in onMessage);
    // documents opened before that answer would be checked without the schema mapping.
    server.notify('workspace/didChangeConfiguration', { settings: server.settings });
    await configured;
    return server;
  }

  /** Opens (or replaces) a document and returns the diagnostics the server publishes for it. */
  async diagnose(uri: string, text: string): Promise<LspDiagnostic[]> {
    const published = new Promise<LspDiagnostic[]>((resolve) => {
      const list = this.waiters.get(uri) ?? [];
      list.push(resolve);
      this.waiters.set(uri, list);
    });
    this.open(uri, text);
    return published;
  }

  open(uri: string, text: string): void {
    const version = (this.versions.get(uri) ?? 0) + 1;
    this.versions.set(uri, version);
    if (version === 1) {
      this.notify('textDocument/didOpen', { textDocument: { uri, languageId: 'yaml', version, text } });
    } else {
      this.notify('textDocument/didChange', { textDocument: { uri, version }, contentChanges: [{ text }] });
    }
  }

  async complete(uri: string, line: number, character: number): Promise<LspCompletionItem[]> {
    const result = (await this.request('textDocument/completion', { textDocument: { uri }, position: { line, character } })) as
      | { items: LspCompletionItem[] }
      | LspCompletionItem[]
      | null;
    if (!result) return [];
    return Array.isArray(result) ? result : result.items;
  }

  async stop(): Promise<void> {
    const exited = new Promise<void>((resolve) => {
      if (this.child.exitCode !== null) resolve();
      else this.child.once('exit', () => resolve());
    });
    await this.request('shutdown', null).catch(() => undefined);
    this.notify('exit', null);
    await exited;
  }

  private request(method: string, params: unknown): Promise<unknown> {
    const id = this.nextId++;
    const reply = new Promise<unknown>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    this.send({ jsonrpc: '2.0', id, method, params });
    return reply;
  }

  private notify(method: string, params: unknown): void {
    this.send({ jsonrpc: '2.0', method, params });
  }

  private send(message: unknown): void {
    const body = Buffer.from(JSON.stringify(message), 'utf8');
    this.child.stdin.write(Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`, 'ascii'), body]));
  }

  private onData(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const headerEnd = this.buffer.indexOf('\r\n\r\n');
      if (headerEnd === -1) return;
      const length = Number(/Content-Length: (\d+)/i.exec(this.buffer.subarray(0, headerEnd).toString('ascii'))?.[1]);
      const start = headerEnd + 4;
      if (this.buffer.length < start + length) return;
      const message = JSON.parse(this.buffer.subarray(start, start + length).toString('utf8'));
      this.buffer = this.buffer.subarray(start + length);
      this.onMessage(message);
    }
  }

  private onMessage(message: { id?: number; method?: string; params?: unknown; result?: unknown; error?: { message: string } }): void {
    if (message.method === undefined && message.id !== undefined) {
      const p = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (message.error) p?.reject(new Error(message.error.message));
      else p?.resolve(message.result);
      return;
    }
    if (message.method === 'textDocument/publishDiagnostics') {
      const { uri, diagnostics } = message.params as { uri: string; diagnostics: LspDiagnostic[] };
      const waiting = this.waiters.get(uri);
      this.waiters.delete(uri);
      for (const w of waiting ?? []) w(diagnostics);
      return;
    }
    // Server-to-client requests (workspace/configuration, client/registerCapability...): answer so the server carries on.
    if (message.id !== undefined && message.method !== undefined) {
      const items = (message.params as { items?: Array<{ section?: string }> } | undefined)?.items ?? [];
      const result = message.method === 'workspace/configuration' ? items.map((i) => this.settings[i.section ?? ''] ?? null) : null;
      this.send({ jsonrpc: '2.0', id: message.id, result });
      if (items.some((i) => i.section === 'yaml')) this.onConfigured();
    }
  }
}
