// Drives a real VS Code workbench (code-server) with the Jellycell extension installed, in
// Debian's headless Chromium through playwright-core, the way a user would: open the
// notebook, look at the squiggles and the Problems panel, read the code lenses and the
// status bar, click `▶ Run`, wait for the lens to say cached, hover the cell, run another
// cell from the command palette. It asserts nothing: it prints one JSON object with what it
// saw (tests/vscode.rs asserts on it) and saves screenshots in OUTDIR.
//
// usage: NODE_PATH=<dir with playwright-core> node drive.js URL NOTEBOOK_FILE_NAME OUTDIR [SCENARIO]
// SCENARIO: `run` (the default, above), `missing-server` (jellycell.server.path points
// nowhere: read the error notification and the status bar, then click its "Open
// Settings", type the binary's path JELLYCELL_TEST_SERVER, and wait for the diagnostics),
// or `outputs` (a notebook cached beforehand: the output summaries after its cells and
// the Outputs view following the cursor, with an image).
'use strict';
const { chromium } = require('playwright-core');
const fs = require('fs');
const path = require('path');

const [url, notebookName, outDir, scenario = 'run'] = process.argv.slice(2);
const CHROMIUM = process.env.JELLYCELL_TEST_CHROMIUM || '/usr/bin/chromium';
const seen = { steps: [] };
const LENS = '.contentWidgets .codelens-decoration';

function step(name, data) {
  seen.steps.push(name);
  Object.assign(seen, data);
}

async function until(what, probe, timeoutMs, page) {
  const end = Date.now() + timeoutMs;
  let last;
  while (Date.now() < end) {
    last = await probe().catch((error) => ({ error: String(error) }));
    if (last && !last.error) {
      return last;
    }
    await page.waitForTimeout(250);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last && last.error ? ': ' + last.error : ''}`);
}

async function lensTexts(page) {
  // Top to bottom, so the first entry belongs to the first code cell.
  return page.$$eval(LENS, (nodes) =>
    nodes
      .map((node) => ({ top: node.getBoundingClientRect().top, text: node.innerText.trim() }))
      .sort((a, b) => a.top - b.top)
      .map((lens) => lens.text),
  );
}

async function statusBarText(page) {
  const texts = await page.$$eval('.statusbar-item', (nodes) => nodes.map((node) => node.innerText.trim()));
  return texts.filter((text) => /kernel|jellycell/i.test(text));
}

/** Puts the cursor on the first line of the editor containing `needle` (and returns it). */
async function lineWith(page, needle) {
  const line = page.locator('.monaco-editor .view-line', { hasText: needle }).first();
  await line.waitFor({ timeout: 15000 });
  return line;
}

async function runPaletteCommand(page, title) {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ timeout: 10000 });
  await input.fill('>' + title);
  const row = page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
  await row.waitFor({ timeout: 10000 });
  const label = (await row.innerText()).split('\n')[0];
  await page.keyboard.press('Enter');
  return label;
}

async function hoverText(page, needle, expected, timeoutMs) {
  const end = Date.now() + timeoutMs;
  let text = '';
  while (Date.now() < end) {
    const line = await lineWith(page, needle);
    const box = await line.boundingBox();
    // Wiggle inside the line's text so that each round triggers a fresh hover.
    await page.mouse.move(box.x + 5, box.y + box.height / 2);
    await page.mouse.move(box.x + 30, box.y + box.height / 2, { steps: 3 });
    const hover = page.locator('.monaco-hover:not(.hidden) .monaco-hover-content, .monaco-hover:not(.hidden) .hover-contents');
    try {
      await hover.first().waitFor({ state: 'visible', timeout: 3000 });
      text = (await hover.allInnerTexts()).join('\n');
      if (text.includes(expected)) {
        return text;
      }
    } catch {
      // no hover yet: try again
    }
    await page.mouse.move(box.x + box.width + 400, box.y - 200);
    await page.waitForTimeout(300);
  }
  return text;
}

async function play(page) {
  await until('the workbench page to load', () => page.goto(url, { waitUntil: 'domcontentloaded' }), 60000, page);
  await page.waitForSelector('.monaco-workbench', { timeout: 60000 });
  // The explorer appears once the folder is open: then keybindings are live.
  await page.waitForSelector('.explorer-folders-view', { timeout: 60000 });
  step('workbench');

  await page.keyboard.press('Control+P');
  const quickOpen = page.locator('.quick-input-widget input');
  await quickOpen.waitFor({ timeout: 10000 });
  await quickOpen.fill(notebookName);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: notebookName }).first().waitFor({ timeout: 15000 });
  await page.keyboard.press('Enter');
  if (scenario === 'outputs') {
    await outputs(page);
    return;
  }
  await lineWith(page, 'print(message)');
  step('opened');

  if (scenario === 'missing-server') {
    const toast = page.locator('.notifications-toasts .notification-toast', { hasText: 'Jellycell' }).first();
    await toast.waitFor({ timeout: 60000 });
    await page.waitForTimeout(500);
    step('missing-server', { notification: (await toast.innerText()).replace(/\s+/g, ' '), statusBar: await statusBarText(page) });
    await page.screenshot({ path: path.join(outDir, 'vscode-missing-server.png') });
    // The fix the message names, as a user applies it: "Open Settings" on the
    // notification, the binary's path in the setting's box; the server then starts
    // without a window reload.
    await toast.locator('a.monaco-button, .monaco-button', { hasText: 'Open Settings' }).first().click();
    const box = page.locator('.settings-editor .setting-item-contents input').first();
    await box.waitFor({ timeout: 20000 });
    await box.fill(process.env.JELLYCELL_TEST_SERVER);
    await box.press('Tab');
    await page.waitForTimeout(1000);
    await page.keyboard.press('Control+W');
    await page.waitForSelector('.monaco-editor .squiggly-error', { timeout: 60000 });
    await page.waitForTimeout(500);
    step('fixed', { statusBarFixed: await statusBarText(page) });
    return;
  }

  // Diagnostics: a squiggle in the editor, then the rows of the Problems panel.
  await page.waitForSelector('.monaco-editor .squiggly-error, .monaco-editor .squiggly-warning', { timeout: 60000 });
  await page.keyboard.press('Control+Shift+M');
  const problems = await until(
    'rows in the Problems panel',
    async () => {
      const rows = await page.$$eval('.markers-panel .monaco-list-row', (nodes) => nodes.map((node) => node.innerText.replace(/\s+/g, ' ').trim()));
      return rows.length > 1 ? rows : undefined;
    },
    20000,
    page,
  );
  step('diagnostics', { problems });
  // Back to the editor, and the panel closed so the lenses have room.
  await page.keyboard.press('Control+J');
  await (await lineWith(page, 'print(message)')).click();

  const lensesBefore = await until(
    'a status code lens',
    async () => {
      const texts = await lensTexts(page);
      return texts.some((text) => text.includes('▶ Run')) ? texts : undefined;
    },
    60000,
    page,
  );
  step('lenses', { lensesBefore, statusBarBefore: await statusBarText(page) });
  await page.screenshot({ path: path.join(outDir, 'vscode-lenses.png') });

  // Click `▶ Run` (not "Run with deps", not "Run all") on the topmost code cell. The
  // lenses are re-rendered whenever the server asks for a refresh, so an element found
  // a moment ago may be gone: look for the link and click it in one retried step.
  await until(
    'a "▶ Run" link to click',
    async () => {
      const runLinks = page.locator(`${LENS} a`, { hasText: /^▶ Run$/ });
      const boxes = [];
      for (let i = 0; i < (await runLinks.count()); i++) {
        const box = await runLinks.nth(i).boundingBox();
        if (box) {
          boxes.push({ i, top: box.y });
        }
      }
      if (!boxes.length) {
        return undefined;
      }
      boxes.sort((a, b) => a.top - b.top);
      await runLinks.nth(boxes[0].i).click({ timeout: 2000 });
      return true;
    },
    20000,
    page,
  );
  step('clicked-run');
  const statusBarDuring = await statusBarText(page);
  const lensesAfter = await until(
    'the lens to say cached',
    async () => {
      const texts = await lensTexts(page);
      return texts.length && texts[0].includes('✓ cached') ? texts : undefined;
    },
    180000,
    page,
  );
  await page.waitForTimeout(500);
  step('cached', { lensesAfter, statusBarDuring, statusBarAfter: await statusBarText(page) });
  if (scenario === 'bundled') {
    return; // the cell ran with the server bundled in the .vsix
  }

  const hover = await hoverText(page, 'print(message)', 'hello from the kernel', 30000);
  step('hover', { hover });
  await page.waitForTimeout(800); // the hover's fade-in
  await page.screenshot({ path: path.join(outDir, 'vscode-screenshot.png') });

  // The palette: cursor in the second code cell, "Jellycell: Run Cell".
  await page.mouse.move(1000, 700);
  await (await lineWith(page, 'total = sum')).click();
  const paletteEntry = await runPaletteCommand(page, 'Jellycell: Run Cell');
  const lensesAfterPalette = await until(
    'the second lens to say cached',
    async () => {
      const texts = await lensTexts(page);
      return texts.length > 1 && texts[1].includes('✓ cached') ? texts : undefined;
    },
    120000,
    page,
  );
  step('palette', { paletteEntry, lensesAfterPalette, statusBarEnd: await statusBarText(page) });

  // Restarting the kernel from the palette: the status bar goes back to "no kernel".
  const restartEntry = await runPaletteCommand(page, 'Jellycell: Restart Kernel');
  const statusBarRestarted = await until(
    'the status bar to say no kernel',
    async () => {
      const texts = await statusBarText(page);
      return texts.some((text) => text.includes('no kernel')) ? texts : undefined;
    },
    30000,
    page,
  );
  step('restart', { restartEntry, statusBarRestarted });
}

/** The texts drawn after the lines of the editor (decorations), top to bottom. */
async function afterTexts(page) {
  return page.$$eval('.monaco-editor .view-line', (lines) =>
    lines
      .map((line) => {
        const texts = [];
        for (const span of line.querySelectorAll('span')) {
          const after = getComputedStyle(span, '::after').content;
          if (after && after !== 'none' && after !== 'normal' && after.includes('→')) {
            texts.push(after.replace(/^"|"$/g, ''));
          } else if (span.children.length === 0 && span.textContent.startsWith('→')) {
            texts.push(span.textContent);
          }
        }
        return { top: line.getBoundingClientRect().top, texts };
      })
      .filter((line) => line.texts.length)
      .sort((a, b) => a.top - b.top)
      .flatMap((line) => line.texts),
  );
}

/** The document of the Jellycell Outputs webview (nested frames), when it shows `needle`. */
async function outputsFrame(page, needle) {
  for (const frame of page.frames()) {
    const found = await frame
      .evaluate((text) => {
        const root = document.querySelector('.jc-outputs');
        return root && root.innerText.includes(text)
          ? { text: root.innerText, images: root.querySelectorAll('img').length }
          : undefined;
      }, needle)
      .catch(() => undefined);
    if (found) {
      return found;
    }
  }
  return undefined;
}

// SCENARIO `outputs`: the notebook was run by the CLI beforehand. Each cell's output
// summary appears after its last line; the Outputs view follows the cursor, with images.
async function outputs(page) {
  await lineWith(page, 'print(greeting)');
  step('opened');
  const inline = await until(
    'the output summaries after the cells',
    async () => {
      const texts = await afterTexts(page);
      return texts.length >= 3 ? texts : undefined;
    },
    60000,
    page,
  );
  step('inline', { inline });
  await page.waitForTimeout(500);
  await page.screenshot({ path: path.join(outDir, 'vscode-inline-outputs.png') });

  const showEntry = await runPaletteCommand(page, 'Jellycell: Show Outputs');
  await (await lineWith(page, 'display(Image(data=png))')).click();
  const view = await until('the Outputs view to show the picture cell', () => outputsFrame(page, 'picture'), 30000, page);
  step('view', { showEntry, viewText: view.text, viewImages: view.images });
  await (await lineWith(page, 'print(greeting)')).click();
  const followed = await until('the Outputs view to follow the cursor', () => outputsFrame(page, 'hello, outputs'), 30000, page);
  step('followed', { followedText: followed.text });
  // Room for the view in the screenshot: fold the explorer's folder tree.
  await page.locator('.explorer-viewlet .pane-header').first().click().catch(() => undefined);
  await (await lineWith(page, 'display(Image(data=png))')).click();
  await until('the Outputs view to show the picture again', () => outputsFrame(page, 'picture'), 30000, page);
  await page.waitForTimeout(800);
  await page.screenshot({ path: path.join(outDir, 'vscode-outputs-view.png') });
}

(async () => {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-quic',
    ],
  });
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const pageErrors = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  try {
    await play(page);
  } catch (error) {
    seen.error = String(error && error.stack ? error.stack : error);
    await page.screenshot({ path: path.join(outDir, 'vscode-failure.png') }).catch(() => {});
    seen.lensesAtFailure = await lensTexts(page).catch(() => []);
    seen.statusBarAtFailure = await statusBarText(page).catch(() => []);
    seen.notificationsAtFailure = await page
      .$$eval('.notifications-toasts .notification-toast', (nodes) => nodes.map((node) => node.innerText.trim()))
      .catch(() => []);
  }
  seen.pageErrors = pageErrors;
  await browser.close();
  process.stdout.write(JSON.stringify(seen) + '\n');
})().catch((error) => {
  process.stdout.write(JSON.stringify({ error: String(error), steps: seen.steps }) + '\n');
  process.exit(2);
});
