// Finding and describing the `jellycell-lsp` executable: `jellycell.server.path` when set,
// else the binary bundled in a platform `.vsix` (`server/jellycell-lsp`, see
// package-bundled.sh), else `jellycell-lsp` on PATH.
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { ServerOptions, TransportKind } from 'vscode-languageclient/node';

export interface ServerSettings {
  /** As written in the setting; `jellycell-lsp` when the setting is empty. */
  configured: string;
  /** Where `resolved` came from. */
  source: 'setting' | 'bundled' | 'path';
  /** The absolute path it resolves to, when it does. */
  resolved: string | undefined;
  args: string[];
}

function isExecutableFile(candidate: string): boolean {
  try {
    fs.accessSync(candidate, fs.constants.X_OK);
    return fs.statSync(candidate).isFile();
  } catch {
    return false;
  }
}

/** `name` resolved like a shell would: a path as is (`~` expanded), a bare name on PATH. */
export function resolveExecutable(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const expanded = name.startsWith('~/') ? path.join(env.HOME ?? '', name.slice(2)) : name;
  if (expanded.includes('/') || expanded.includes('\\')) {
    const absolute = path.resolve(expanded);
    return isExecutableFile(absolute) ? absolute : undefined;
  }
  const extensions = process.platform === 'win32' ? ['.exe', '.cmd', ''] : [''];
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) {
      continue;
    }
    for (const extension of extensions) {
      const candidate = path.join(dir, expanded + extension);
      if (isExecutableFile(candidate)) {
        return candidate;
      }
    }
  }
  return undefined;
}

/** The server bundled in a platform `.vsix`, when this one has it; made executable if the
 * installer dropped the mode bits. */
export function bundledServer(extensionPath: string): string | undefined {
  const name = process.platform === 'win32' ? 'jellycell-lsp.exe' : 'jellycell-lsp';
  const bundled = path.join(extensionPath, 'server', name);
  if (!fs.existsSync(bundled)) {
    return undefined;
  }
  if (!isExecutableFile(bundled)) {
    try {
      fs.chmodSync(bundled, 0o755);
    } catch {
      return undefined;
    }
  }
  return isExecutableFile(bundled) ? bundled : undefined;
}

export function readServerSettings(extensionPath: string): ServerSettings {
  const config = vscode.workspace.getConfiguration('jellycell');
  const args = config.get<string[]>('server.extraArgs') ?? [];
  const setting = config.get<string>('server.path')?.trim();
  if (setting) {
    return { configured: setting, source: 'setting', resolved: resolveExecutable(setting), args };
  }
  const bundled = bundledServer(extensionPath);
  if (bundled) {
    return { configured: 'jellycell-lsp', source: 'bundled', resolved: bundled, args };
  }
  return { configured: 'jellycell-lsp', source: 'path', resolved: resolveExecutable('jellycell-lsp'), args };
}

/** The stdio launch of a resolved server. */
export function serverOptions(executable: string, args: string[]): ServerOptions {
  return { command: executable, args, transport: TransportKind.stdio };
}

/** The message shown when the executable is missing, with the fix. */
export function notFoundMessage(settings: ServerSettings): string {
  const where = settings.configured.includes('/')
    ? `"${settings.configured}" does not exist or is not executable`
    : `"${settings.configured}" is not on PATH`;
  return (
    `Jellycell: cannot start the language server: ${where}. ` +
    'Install it with "uv tool install jellycell-lsp" or "pip install jellycell-lsp" ' +
    '(or "cargo install --locked --path ." in a jellycell-lsp checkout), or set ' +
    '"jellycell.server.path" to the binary\'s absolute path.'
  );
}

/** What the server reads from `initializationOptions`. */
export function initializationOptions(): Record<string, unknown> {
  const config = vscode.workspace.getConfiguration('jellycell');
  const port = config.get<number | null>('preview.port');
  return {
    codeLens: config.get<boolean>('codeLens.enable', true),
    inlayHints: config.get<boolean>('inlayHints.enable', false),
    previewPort: typeof port === 'number' && Number.isInteger(port) && port > 0 ? port : null,
    // The status-bar item follows `jellycell/kernelStatus` (sent only when asked for).
    kernelStatus: true,
    // The extension draws the output summaries as decorations (outputs.ts): the inlay
    // hints keep only the status, when they are on.
    inlineOutputs: false,
  };
}
