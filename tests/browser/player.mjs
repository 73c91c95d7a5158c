// The page's player: dash.js with the advice of scone-bridge, one way or
// the other, and window.scone for the test to read (segments, stalls,
// quality, buffer).
const q = new URLSearchParams(location.search);
const mode = q.get('mode');
const bridge = q.get('bridge');
const video = document.getElementById('video');
const hud = document.getElementById('hud');
const events = dashjs.MediaPlayer.events;
const player = dashjs.MediaPlayer().create();

const state = {
  mode, segments: [], stalls: 0, playing: false, startedAt: null,
  caps: [], errors: [], ready: false,
};
window.scone = state;

// A short buffer, so that segments keep being fetched every 2 s and a
// change of advice shows in the next requests.
const settings = {
  streaming: {
    buffer: { bufferTimeDefault: 6, bufferTimeAtTopQuality: 6,
              bufferTimeAtTopQualityLongForm: 6 },
    cmsd: { enabled: mode === 'cmsd', abr: { applyMb: mode === 'cmsd' } },
  },
};
player.updateSettings(settings);

player.on(events.FRAGMENT_LOADING_COMPLETED, (e) => {
  const r = e.request;
  if (!r || r.type !== 'MediaSegment' || r.mediaType !== 'video') return;
  state.segments.push({
    index: r.index, bandwidth: r.bandwidth,
    start: r.startDate ? r.startDate.getTime() : Date.now(),
    end: r.endDate ? r.endDate.getTime() : Date.now(),
  });
});
player.on(events.ERROR, (e) => state.errors.push(String(e.error?.message ?? e.error?.code ?? e)));
video.addEventListener('playing', () => {
  if (!state.playing) state.startedAt = Date.now();
  state.playing = true;
});
// A stall: the element waits for data after playback began (not a seek).
video.addEventListener('waiting', () => {
  if (state.playing && !video.seeking) state.stalls++;
});

state.sample = () => {
  const rep = player.getCurrentRepresentationForType?.('video');
  return {
    t: Date.now(),
    rendered: rep ? rep.bandwidth : null,
    buffer: player.getBufferLength('video'),
    stalls: state.stalls,
    time: video.currentTime,
    frames: video.getVideoPlaybackQuality?.().totalVideoFrames ?? null,
  };
};

// The audio rung's bitrate once the stream is known (dash.js throws
// before), since the video cap is what remains of the advice beside it.
function audioKbps() {
  try {
    const reps = player.getRepresentationsByType('audio');
    return reps.length ? Math.max(...reps.map((r) => r.bandwidth)) / 1000 : 0;
  } catch (e) {
    return 0;
  }
}

if (mode === 'netinfo') {
  // Only the Network Information view: dash.js's own cap follows the
  // advice (downlinkMax) less the margin and the audio.
  const { default: connection } = await import(bridge + '/scone/scone-netinfo.js');
  const apply = () => {
    const max = connection.downlinkMax;
    const margin = connection.overheadMarginPct ?? 10;
    const video = isFinite(max)
      ? Math.floor(max * 1000 * (100 - margin) / 100 - audioKbps()) : -1;
    player.updateSettings({ streaming: { abr: { maxBitrate: { video } } } });
    state.caps.push({ t: Date.now(), downlinkMax: max, video });
  };
  connection.addEventListener('change', apply);
  player.on(events.STREAM_INITIALIZED, apply);
  apply();
}

player.initialize(video, q.get('mpd'), true);
state.ready = true;
setInterval(() => {
  const s = state.sample();
  hud.textContent = `mode ${mode}  video ${s.rendered / 1000} kbit/s  ` +
    `buffer ${s.buffer.toFixed(1)} s  stalls ${s.stalls}  ` +
    `t ${s.time.toFixed(1)} s`;
}, 500);
