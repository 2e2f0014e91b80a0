import type { ReportEpisode, ReportLine, RunReport } from './run-report.ts';

const esc = (s: unknown) =>
  String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
const usd = (n: number) => `$${n.toFixed(2)}`;
const secs = (n: number) => `${n.toFixed(1)} s`;

/** report.html: static, self-contained (inline CSS, no script), opens from disk. Pure. */
export function reportHtml(r: RunReport): string {
  const t = r.totals;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>duologue run #${r.run_id}</title>
<style>
  :root { font-family: system-ui, sans-serif; color: #1d2330; background: #f5f6f8; }
  body { margin: 0 auto; max-width: 1100px; padding: 24px; }
  h1 { margin: 0 0 4px; font-size: 22px; }
  .meta { color: #5b6475; font-size: 13px; margin-bottom: 20px; }
  .cards { display: flex; gap: 12px; flex-wrap: wrap; margin-bottom: 24px; }
  .card { background: #fff; border-radius: 8px; padding: 12px 16px; box-shadow: 0 1px 2px #0002; min-width: 120px; }
  .card b { display: block; font-size: 20px; }
  section.episode { background: #fff; border-radius: 10px; padding: 16px; margin-bottom: 24px; box-shadow: 0 1px 3px #0002; }
  .status { font-size: 12px; padding: 2px 8px; border-radius: 10px; color: #fff; }
  .complete { background: #2f8f4e; } .incomplete { background: #b3472f; }
  video { width: 100%; max-width: 640px; border-radius: 6px; background: #000; display: block; margin: 12px 0; }
  table { border-collapse: collapse; width: 100%; font-size: 13px; }
  th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid #e4e6eb; vertical-align: middle; }
  td.num, th.num { text-align: right; }
  img.thumb { width: 120px; border-radius: 4px; display: block; }
  .err { color: #b3472f; }
  .hit { color: #2f8f4e; } .miss { color: #8a5a00; }
</style>
</head>
<body>
<h1>duologue run #${r.run_id}${r.interrupted ? ' (interrupted)' : ''}</h1>
<div class="meta">${esc(r.generated_at)} · provider ${esc(r.provider)} (${esc(r.model)}) · prices ${esc(r.price_table)} · duologue ${esc(r.duologue)}</div>
<div class="cards">
  <div class="card"><b>${usd(t.cost_usd)}</b>spent this run</div>
  ${r.speech.length > 0 ? `<div class="card"><b>${usd(t.video_usd)}</b>on video</div>\n  <div class="card"><b>$${t.speech_usd.toFixed(4)}</b>on speech</div>` : ''}
  <div class="card"><b>${usd(t.from_scratch_usd)}</b>from scratch</div>
  <div class="card"><b>${usd(t.saved_usd)}</b>saved by the cache</div>
  <div class="card"><b>${t.rendered}</b>rendered</div>
  <div class="card"><b>${t.cached}</b>cached</div>
  <div class="card"><b>${t.failed}</b>failed</div>
  <div class="card"><b>${t.skipped}</b>skipped</div>
  ${t.waste_from_scratch ? `<div class="card"><b>$${t.waste_from_scratch.waste_usd.toFixed(3)}</b>paid for nobody speaking (from scratch)</div>` : ''}
</div>
${r.episodes.map((e) => episode(e, r.speech.filter((l) => l.episode === e.id))).join('\n')}
</body>
</html>
`;
}

function episode(e: ReportEpisode, lines: readonly ReportLine[]): string {
  return `<section class="episode" id="${esc(e.id)}">
<h2>${esc(e.id)}${e.title ? ` — ${esc(e.title)}` : ''} <span class="status ${e.status}">${e.status}</span></h2>
<div class="meta">${secs(e.duration_seconds)} · ${usd(e.cost_usd)} this run · ${usd(e.full_cost_usd)} from scratch</div>
${e.video ? (/^s3:\/\//i.test(e.video) ? `<p>Written to <code>${esc(e.video)}</code></p>` : `<video controls preload="metadata" src="${esc(e.video)}"></video>`) : `<p class="err">No episode file: ${esc(e.reason ?? 'not every scene has a clip.')}</p>`}
<table>
<thead><tr><th></th><th>scene</th><th>order</th><th>res</th><th class="num">video</th><th>seed</th><th>cache</th><th class="num">cost</th><th class="num">paid for nothing</th><th class="num">processing</th><th>result</th></tr></thead>
<tbody>
${e.scenes
  .map(
    (s) => `<tr>
<td>${s.thumbnail ? `<img class="thumb" src="${esc(s.thumbnail)}" alt="${esc(s.id)}">` : ''}</td>
<td>${esc(s.title)}${s.title !== s.id ? `<br><small>${esc(s.id)}</small>` : ''}</td>
<td>${esc(s.order)}</td><td>${esc(s.resolution)}</td>
<td class="num">${secs(s.video_seconds)}</td>
<td>${s.seed}${s.seed_source === 'manifest' ? '' : ` <small>(${esc(s.seed_source)})</small>`}</td>
<td class="${s.cache === 'hit' ? 'hit' : 'miss'}">${esc(s.cache)}${s.cache_reason ? `<br><small>${esc(s.cache_reason)}</small>` : ''}</td>
<td class="num">${usd(s.cost_usd)}</td>
<td class="num">${s.waste ? wasteCell(s.waste) : ''}</td>
<td class="num">${s.processing_seconds === null ? '' : secs(s.processing_seconds)}</td>
<td>${esc(s.outcome)}${s.error ? `<br><small class="err">${esc(s.error)}</small>` : ''}</td>
</tr>`,
  )
  .join('\n')}
</tbody>
</table>
${lines.length === 0 ? '' : speechTable(lines)}
</section>`;
}

/** Lines written as text: what was said, by which voice, and what voicing it cost this run. */
function speechTable(lines: readonly ReportLine[]): string {
  return `<h3>Lines written as text</h3>
<table>
<thead><tr><th>scene</th><th class="num">line</th><th>side</th><th>voice</th><th>text</th><th>speech</th><th class="num">cost</th></tr></thead>
<tbody>
${lines
  .map(
    (l) => `<tr><td>${esc(l.scene)}</td><td class="num">${l.line}</td><td>${esc(l.side)}</td><td>${esc(l.voice)}</td><td>${esc(l.text)}</td>
<td>${esc(l.status)}${l.error ? `<br><small class="err">${esc(l.error)}</small>` : ''}</td><td class="num">$${l.cost_usd.toFixed(4)}</td></tr>`,
  )
  .join('\n')}
</tbody>
</table>`;
}

/** `$0.111` with where it went: silence, padding to the minimum, rounding up (seconds). */
function wasteCell(w: NonNullable<ReportEpisode['scenes'][number]['waste']>): string {
  const parts = [
    w.leading_silence_seconds + w.trailing_silence_seconds > 0 ? `silence ${Math.round((w.leading_silence_seconds + w.trailing_silence_seconds) * 1000) / 1000} s` : '',
    w.padding_seconds > 0 ? `padding ${w.padding_seconds} s` : '',
    w.rounding_seconds > 0 ? `rounding ${w.rounding_seconds} s` : '',
  ].filter(Boolean);
  return `$${w.waste_usd.toFixed(3)}${parts.length > 0 ? `<br><small>${esc(parts.join(' · '))}</small>` : ''}`;
}
