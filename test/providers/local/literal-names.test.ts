/**
 * File names are passed to ffmpeg literally: `%d` (an image-sequence pattern
 * to ffmpeg's image2 demuxer) or `*` in an input's name must not change
 * which file is read.
 */
import { copyFileSync, existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { localRenderArgs } from '../../../pipeline/providers/local/args.ts';
import { runCli } from '../../helpers/cli.ts';
import { tinyProject } from '../../helpers/tasks.ts';

const fixtures = path.join(import.meta.dirname, '../../fixtures/media');
const made: string[] = [];
afterAll(() => made.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('local renderer input names', () => {
  it('renders an image named "cast %d*.jpg" and audio named "ana %03d.wav"', async () => {
    const { dir, manifest } = tinyProject(`version: 1
episodes:
  - id: ep
    scenes:
      - { id: s, image: "cast %d*.jpg", left: "ana %03d.wav", right: tone-1s.wav }
`);
    made.push(dir);
    copyFileSync(path.join(fixtures, 'two-people.jpg'), path.join(dir, 'cast %d*.jpg'));
    copyFileSync(path.join(fixtures, 'tone-2500ms.wav'), path.join(dir, 'ana %03d.wav'));
    const out = path.join(dir, 'out');
    const run = await runCli(['render', manifest, '--provider', 'local', '--cache-dir', path.join(dir, 'cache'), '--out', out, '--no-report', '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(existsSync(path.join(out, 'ep.mp4'))).toBe(true);
  });

  it('reads the image with the content-probing pipe demuxer and every input through the file protocol', () => {
    const args = localRenderArgs({ image: '/m/a%d.png', imageWidth: 128, imageHeight: 96, left: '/m/l%d.wav', right: '/m/r.wav', leftMs: 1000, rightMs: 1000, order: 'meanwhile', resolution: '480p', out: '/o.mp4' });
    const inputs = args.flatMap((a, i) => (a === '-i' ? [args[i + 1]] : []));
    expect(inputs).toEqual(['file:/m/a%d.png', 'file:/m/l%d.wav', 'file:/m/r.wav']);
    expect(args.slice(0, args.indexOf('file:/m/a%d.png') + 1)).toEqual(['-f', 'image2pipe', '-loop', '1', '-framerate', '25', '-t', '1.000', '-i', 'file:/m/a%d.png']);
  });
});
