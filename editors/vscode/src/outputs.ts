// Outputs where the user looks: each code cell's one-line output summary as a decoration
// after its last line (`→ 42`, `→ ✗ NameError: …`, `→ 🖼 figure`), and the "Jellycell
// Outputs" view, which shows the outputs of the cell under the cursor as the preview
// renders them. Both read the server's `jellycell/cellOutputs` (docs/lsp.md): the cache,
// not a running kernel, so they are there in the next session too.
//
// Redrawn when a run finishes (kernel status notifications), when the diagnostics change
// (the server republishes them after each cell and when another process writes the cache),
// and after edits (a cell edited since its run is marked stale).
import * as vscode from 'vscode';
import { LanguageClient } from 'vscode-languageclient/node';
import { looksLikeNotebook } from './notebook';

export const OUTPUTS_VIEW = 'jellycell.outputs';
/** Lines above and below the visible ones whose cells get their decorations too. */
const MARGIN_LINES = 100;

/** The part of a `jellycell/cellOutputs` answer the extension reads. */
export interface CellOutputs {
  cell: number;
  line: number | null;
  name: string;
  status: string;
  stale: boolean;
  summary: string | null;
  previewUrl: string | null;
  outputs: unknown[];
  html?: string;
  style?: string;
}

export function isCellOutputs(value: unknown): value is CellOutputs {
  return typeof value === 'object' && value !== null && typeof (value as CellOutputs).cell === 'number';
}

/** The 0-based lines of the cell headers (`# %%`, MyST `{code-cell}`), and line 0. */
export function cellHeaderLines(document: vscode.TextDocument): number[] {
  const lines = [0];
  for (let line = 1; line < document.lineCount; line++) {
    const text = document.lineAt(line).text;
    if (/^#\s*%%/.test(text) || /^(```|~~~)\s*\{code-cell\}/.test(text)) {
      lines.push(line);
    }
  }
  return lines;
}

export async function cellOutputs(
  client: LanguageClient,
  uri: string,
  line: number,
  extra: Record<string, unknown> = {},
): Promise<CellOutputs | undefined> {
  const answer: unknown = await client.sendRequest('jellycell/cellOutputs', { uri, line, ...extra });
  return isCellOutputs(answer) ? answer : undefined;
}

/** The decorations after each cell, in every visible notebook editor. */
export class InlineOutputs implements vscode.Disposable {
  private readonly decoration = vscode.window.createTextEditorDecorationType({
    after: {
      color: new vscode.ThemeColor('editorCodeLens.foreground'),
      fontStyle: 'italic',
      margin: '0 0 0 2em',
    },
    rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed,
  });
  private readonly errorDecoration = vscode.window.createTextEditorDecorationType({
    after: {
      color: new vscode.ThemeColor('editorError.foreground'),
      fontStyle: 'italic',
      margin: '0 0 0 2em',
    },
  });
  private readonly generations = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly client: () => LanguageClient | undefined) {}

  /** Redraws every visible notebook editor soon (calls within 200 ms fold into one). */
  schedule(): void {
    if (this.timer) {
      clearTimeout(this.timer);
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      for (const editor of vscode.window.visibleTextEditors) {
        void this.refresh(editor);
      }
    }, 200);
  }

  async refresh(editor: vscode.TextEditor): Promise<void> {
    const client = this.client();
    if (!client?.isRunning() || !looksLikeNotebook(editor.document)) {
      return;
    }
    const uri = editor.document.uri.toString();
    const generation = (this.generations.get(uri) ?? 0) + 1;
    this.generations.set(uri, generation);
    // The cells around what the editor shows (a long notebook costs what is on screen):
    // from the last header above the first visible line to the end of the last range.
    const visible = editor.visibleRanges;
    const first = Math.max(0, (visible[0]?.start.line ?? 0) - MARGIN_LINES);
    const last = (visible[visible.length - 1]?.end.line ?? editor.document.lineCount) + MARGIN_LINES;
    const headers = cellHeaderLines(editor.document);
    const below = headers.findIndex((line) => line > first);
    const start = below === -1 ? headers.length - 1 : Math.max(0, below - 1);
    const wanted = headers.slice(start).filter((line) => line <= last);
    const answers = await Promise.all(
      wanted.map((line) =>
        cellOutputs(client, uri, line, { maxImageBytes: 0 }).catch(() => undefined),
      ),
    );
    if (this.generations.get(uri) !== generation) {
      return;
    }
    const plain: vscode.DecorationOptions[] = [];
    const errors: vscode.DecorationOptions[] = [];
    const seen = new Set<number>();
    for (const answer of answers) {
      if (!answer || seen.has(answer.cell) || !answer.summary || answer.line === null) {
        continue;
      }
      seen.add(answer.cell);
      if (answer.line >= editor.document.lineCount) {
        continue;
      }
      const end = editor.document.lineAt(answer.line).range.end;
      const text = `→ ${answer.stale ? '● stale · ' : ''}${answer.summary}`;
      const option: vscode.DecorationOptions = {
        range: new vscode.Range(end, end),
        renderOptions: { after: { contentText: text } },
        hoverMessage: new vscode.MarkdownString(
          `Cached outputs of \`${answer.name}\` (${answer.status}): see the *Jellycell Outputs* view`,
        ),
      };
      (answer.status === 'error' ? errors : plain).push(option);
    }
    editor.setDecorations(this.decoration, plain);
    editor.setDecorations(this.errorDecoration, errors);
  }

  dispose(): void {
    if (this.timer) {
      clearTimeout(this.timer);
    }
    this.decoration.dispose();
    this.errorDecoration.dispose();
  }
}

/** A nonce-free, script-free page: the preview's style sheet and its rendering. */
export function outputsPage(answer: CellOutputs | undefined, cspSource: string, note: string): string {
  // As strict as the preview's page policy: no scripts at all, images only inline,
  // `text/html` outputs only inside the preview's sandboxed `<iframe srcdoc>`.
  const csp =
    `default-src 'none'; img-src ${cspSource} data:; style-src 'unsafe-inline'; ` +
    "frame-src about: data:; script-src 'none'; object-src 'none'; base-uri 'none'; form-action 'none'";
  const escape = (text: string): string =>
    text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  const heading = answer
    ? `<p class="jc-outputs-title"><b>${escape(answer.name)}</b> · cell ${answer.cell} · ${escape(answer.status)}` +
      `${answer.stale ? ' · outputs of an earlier version' : ''}` +
      `${answer.previewUrl ? ` · <a href="${escape(answer.previewUrl)}">open in preview</a>` : ''}</p>`
    : '';
  const body = answer
    ? answer.outputs.length
      ? (answer.html ?? '')
      : '<p class="jc-empty">(no output)</p>'
    : `<p class="jc-empty">${escape(note)}</p>`;
  return (
    `<!doctype html><html><head><meta charset="utf-8">` +
    `<meta http-equiv="Content-Security-Policy" content="${csp}">` +
    `<style>${answer?.style ?? ''}\nbody{padding:0 8px;font-size:13px}.jc-outputs-title{opacity:.8}</style>` +
    `</head><body><div class="jc-outputs">${heading}${body}</div></body></html>`
  );
}

/** The "Jellycell Outputs" view: the outputs of the cell under the cursor. */
export class OutputsView implements vscode.WebviewViewProvider, vscode.Disposable {
  private view: vscode.WebviewView | undefined;
  private timer: NodeJS.Timeout | undefined;
  private generation = 0;
  /** What the view shows now, for tests and the command that reads it. */
  current: CellOutputs | undefined;

  constructor(private readonly client: () => LanguageClient | undefined) {}

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    view.webview.options = { enableScripts: false, enableCommandUris: false, localResourceRoots: [] };
    view.webview.html = outputsPage(undefined, view.webview.cspSource, 'Put the cursor in a code cell.');
    view.onDidChangeVisibility(() => this.schedule());
    view.onDidDispose(() => {
      this.view = undefined;
    });
    this.schedule();
  }

  /** Follows the cursor soon (calls within 150 ms fold into one). */
  schedule(): void {
    if (this.timer) {
      clearTimeout(this.timer);
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.refresh();
    }, 150);
  }

  private async refresh(): Promise<void> {
    const view = this.view;
    const editor = vscode.window.activeTextEditor;
    const client = this.client();
    if (!view?.visible || !editor || !client?.isRunning() || !looksLikeNotebook(editor.document)) {
      return;
    }
    const generation = ++this.generation;
    const line = editor.selection.active.line;
    const answer = await cellOutputs(client, editor.document.uri.toString(), line, { html: true }).catch(
      () => undefined,
    );
    if (generation !== this.generation) {
      return;
    }
    this.current = answer;
    view.description = answer ? answer.name : undefined;
    view.webview.html = outputsPage(answer, view.webview.cspSource, 'No code cell here.');
  }

  dispose(): void {
    if (this.timer) {
      clearTimeout(this.timer);
    }
  }
}
