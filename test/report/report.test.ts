import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { render } from '../../pipeline/run/render.ts';
import type { RunReport } from '../../pipeline/report/run-report.ts';
import { tinyProject } from '../helpers/tasks.ts';

const CHROMIUM = '/usr/bin/chromium';
const root = path.join(import.meta.dirname, '../..');
let outDir: string;

beforeAll(async () => {
  const { manifest } = tinyProject(`version: 1
defaults: { image: two-people.png }
episodes:
  - id: ep1
    title: "Pilot <&> \\"quotes\\""
    scenes:
      - { id: hello, left: tone-1s.wav, right: tone-1s.wav, order: left_right, seed: 1 }
      - { id: solo, right: tone-2500ms.wav, seed: 2 }
  - id: ep2
    scenes:
      - { id: only, lines: [{ left: tone-1s.wav }, { right: tone-1s.wav, pause: 0.3 }] }
`);
  const cacheDir = mkdtempSync(path.join(tmpdir(), 'dl-report-'));
  outDir = path.join(cacheDir, 'out');
  await render([manifest], { provider: 'local', cacheDir, outDir });
});

describe('run report', () => {
  it('report.json has every episode and scene, with thumbnails; the local provider costs nothing', () => {
    const report = JSON.parse(readFileSync(path.join(outDir, 'report.json'), 'utf8')) as RunReport;
    expect(report.episodes.map((e) => [e.id, e.status, e.video])).toEqual([
      ['ep1', 'complete', 'ep1.mp4'],
      ['ep2', 'complete', 'ep2.mp4'],
    ]);
    const scenes = report.episodes.flatMap((e) => e.scenes);
    expect(scenes.map((s) => s.id)).toEqual(['hello', 'solo', 'only']);
    for (const s of scenes) {
      expect(s.thumbnail).toMatch(/^report-assets\/[0-9a-f]{16}\.jpg$/);
      expect(existsSync(path.join(outDir, s.thumbnail!))).toBe(true);
      expect(s.outcome).toBe('rendered');
    }
    // Local renders are free, so there is nothing to save here; savings on a priced provider: savings.test.ts.
    expect(report.totals).toMatchObject({ rendered: 3, cost_usd: 0, from_scratch_usd: 0, saved_usd: 0 });
  });

  const browserNote = existsSync(CHROMIUM) ? '' : ` (SKIPPED: ${CHROMIUM} is not installed; .ci/run installs Debian's chromium)`;
  it.skipIf(!existsSync(CHROMIUM))(`opens from disk in headless Chromium with no console errors and shows every episode${browserNote}`, async () => {
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      const errors: string[] = [];
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(pathToFileURL(path.join(outDir, 'report.html')).toString());
      await page.waitForLoadState('load');
      expect(await page.locator('section.episode').count()).toBe(2);
      expect(await page.locator('section.episode h2').first().textContent()).toContain('Pilot <&> "quotes"');
      expect(await page.locator('video').count()).toBe(2);
      // Thumbnails decoded (naturalWidth > 0) and the first video can read its metadata.
      const widths = await page.locator('img.thumb').evaluateAll((imgs) => imgs.map((i) => (i as HTMLImageElement).naturalWidth));
      expect(widths).toEqual([320, 320, 320]);
      const duration = await page.locator('video').first().evaluate(
        (v) => new Promise<number>((resolve) => ((v as HTMLVideoElement).readyState >= 1 ? resolve((v as HTMLVideoElement).duration) : v.addEventListener('loadedmetadata', () => resolve((v as HTMLVideoElement).duration)))),
      );
      expect(duration).toBeGreaterThan(4);
      mkdirSync(path.join(root, 'test-results'), { recursive: true });
      await page.screenshot({ path: path.join(root, 'test-results/report.png'), fullPage: true });
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
