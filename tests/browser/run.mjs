// Plays player.html in Debian's headless Chromium (puppeteer-core) through
// scone-bridge, samples the player every second, lowers the advice
// mid-session and judges the session.
//
//   node run.mjs --mode cmsd|netinfo --page URL --bridge URL --mpd URL
//                --out DIR --drop-at S --drop-cmd CMD --play S
//                --audio-kbps N [--chromium PATH]
//
// The page (player.html) is on the origin, fetched through the bridge like
// its media: Chromium's Private Network Access keeps a page of another
// non-secure origin from reaching a loopback address at all.
//
// Writes DIR/<mode>.csv (one line a second: time, chosen video bitrate,
// rendered bitrate, buffer, stalls, advice, advice less the margin),
// DIR/<mode>.json (the record and the verdicts) and DIR/<mode>.png (a
// screenshot while playing). Exit 0 when every check holds, 1 otherwise.
import { execSync } from 'node:child_process';
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import puppeteer from 'puppeteer-core';

const args = {};
for (let i = 2; i < process.argv.length; i += 2)
  args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
const mode = args.mode;
const dropAt = Number(args['drop-at']);
const play = Number(args.play);
const out = args.out;
mkdirSync(out, { recursive: true });

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function netinfo() {
  try {
    const r = await fetch(args.bridge + '/scone/netinfo');
    return await r.json();
  } catch (e) {
    return null;
  }
}

const browser = await puppeteer.launch({
  executablePath: args.chromium || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--autoplay-policy=no-user-gesture-required',
         '--mute-audio', '--window-size=700,460'],
});
let verdict = { mode, ok: false, checks: [] };
try {
  const page = await browser.newPage();
  await page.setViewport({ width: 700, height: 460 });
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning')
      console.log(`[page ${m.type()}] ${m.text()}`);
  });
  page.on('pageerror', (e) => console.log(`[page error] ${e.message}`));
  const q = new URLSearchParams({ mode, bridge: args.bridge, mpd: args.mpd });
  await page.goto(`${args.page}?${q}`);

  // Until playback starts (at most 20 s), then once a second.
  const t0 = Date.now();
  while (!(await page.evaluate(() => window.scone?.playing))) {
    if (Date.now() - t0 > 20000) throw new Error('playback did not start within 20 s');
    await sleep(200);
  }
  const start = await page.evaluate(() => window.scone.startedAt);
  const samples = [];
  let dropped = null;
  // When the lower advice reached the bridge: its view, polled every
  // 100 ms from the drop on. The advice travels in the next SCONE packet
  // the origin sends (every second here), so the player is judged from
  // there.
  let arrived = null;
  let before = null;
  const watch = async () => {
    while (arrived === null) {
      const ni = await netinfo();
      if (ni && before !== null && ni.mediaCap !== null && ni.mediaCap < before)
        arrived = Date.now();
      await sleep(100);
    }
  };
  let shot = false;
  for (let s = 0; s <= play; s++) {
    const wake = start + s * 1000;
    if (wake > Date.now()) await sleep(wake - Date.now());
    if (dropped === null && s >= dropAt) {
      before = (await netinfo())?.mediaCap ?? null;
      execSync(args['drop-cmd'], { stdio: 'ignore' });
      dropped = Date.now();
      watch();
      console.log(`${s} s: advice lowered (${args['drop-cmd']})`);
    }
    const p = await page.evaluate(() => window.scone.sample());
    const ni = await netinfo();
    const row = { ...p, s, advice: ni?.throughputAdvice ?? null, cap: ni?.mediaCap ?? null };
    samples.push(row);
    console.log(`${s} s: video ${p.rendered / 1000} kbit/s, buffer ` +
                `${p.buffer.toFixed(1)} s, stalls ${p.stalls}, advice ` +
                `${row.advice} bit/s, cap ${row.cap} kbit/s`);
    // The screenshot while playing, well after the drop.
    if (!shot && s >= dropAt + 4) {
      await page.screenshot({ path: join(out, `${mode}.png`) });
      shot = true;
    }
  }
  const st = await page.evaluate(() => ({
    segments: window.scone.segments, stalls: window.scone.stalls,
    errors: window.scone.errors, caps: window.scone.caps,
  }));

  // The audio rung (dash.js subtracts it from mb too): the ladder's.
  const audio = Number(args['audio-kbps'] || 0);
  const early = samples.filter((x) => x.t < dropped && x.cap !== null);
  const late2 = samples.filter((x) => x.t > dropped + 3000 && x.cap !== null);
  const cap1 = early.length ? Math.min(...early.map((x) => x.cap)) : null;
  const cap2 = late2.length ? Math.max(...late2.map((x) => x.cap)) : null;
  const landed = arrived ?? Infinity;
  const segs = st.segments.sort((a, b) => a.start - b.start);
  const pre = segs.filter((x) => x.start < dropped);
  const post = segs.filter((x) => x.start >= landed);
  const kbps = (x) => x.bandwidth / 1000;
  const check = (name, ok, detail) => {
    verdict.checks.push({ name, ok, detail });
    console.log(`${ok ? 'ok' : 'FAIL'}: ${name}: ${detail}`);
  };
  check('advice known before the drop', cap1 !== null, `media cap ${cap1} kbit/s`);
  check('advice lower after the drop', cap2 !== null && cap1 !== null && cap2 < cap1,
        `media cap ${cap2} kbit/s, at the bridge ${((landed - dropped) / 1000).toFixed(1)} s after POST /capacity`);
  // After startup (the first two segments are chosen before any advice
  // arrives): video + audio within the advice less the margin.
  const late = pre.slice(2);
  check('bitrate within the advice after startup',
        late.length >= 3 && late.every((x) => kbps(x) + audio <= cap1),
        `segments 3..${pre.length} before the drop: ` +
        `${late.map(kbps).join(' ')} kbit/s (+${audio} audio) <= ${cap1}`);
  check('the advice mattered', pre.some((x) => kbps(x) + audio > cap2),
        `before the drop the player took ${Math.max(...pre.map(kbps))} kbit/s, above the later cap ${cap2}`);
  const k = post.findIndex((x) => kbps(x) + audio <= cap2);
  check('steps down within two segments',
        post.length >= 3 && k >= 0 && k <= 1 &&
        post.slice(k).every((x) => kbps(x) + audio <= cap2),
        `segments requested once the advice arrived: ${post.map(kbps).join(' ')} kbit/s ` +
        `(+${audio} audio) vs cap ${cap2}; first under it: #${k + 1}`);
  check('no stall', st.stalls === 0, `${st.stalls} stalls`);
  const last = samples[samples.length - 1];
  check('video playing', shot && last.frames > 24 * (play - 2) &&
        last.time > play - 3, `${last.frames} frames decoded, at ${last.time.toFixed(1)} s`);
  check('no player error', st.errors.length === 0, st.errors.join('; ') || 'none');
  verdict.ok = verdict.checks.every((c) => c.ok);

  const csv = ['# s chosen_kbps rendered_kbps buffer_s stalls advice_kbps cap_kbps'];
  for (const x of samples) {
    // The bitrate of the latest segment requested by then: the choice.
    const chosen = segs.filter((g) => g.start <= x.t).pop();
    csv.push([x.s, chosen ? kbps(chosen) : 'NaN',
              x.rendered !== null ? x.rendered / 1000 : 'NaN',
              x.buffer.toFixed(2), x.stalls,
              x.advice !== null ? (x.advice / 1000).toFixed(0) : 'NaN',
              x.cap !== null ? x.cap : 'NaN'].join(' '));
  }
  writeFileSync(join(out, `${mode}.csv`), csv.join('\n') + '\n');
  verdict = { ...verdict, dropAtS: (dropped - start) / 1000,
              adviceAtS: (landed - start) / 1000, audioKbps: audio,
              segments: segs.map((x) => ({ ...x, start: x.start - start, end: x.end - start })),
              samples, caps: st.caps };
} catch (e) {
  verdict.checks.push({ name: 'session', ok: false, detail: String(e) });
  console.log(`FAIL: ${e.stack || e}`);
} finally {
  writeFileSync(join(out, `${mode}.json`), JSON.stringify(verdict, null, 1));
  await browser.close();
}
process.exit(verdict.ok ? 0 : 1);
