// a2i2a studio: the page. Plain JavaScript, no build step; everything it shows comes from the
// server's JSON API (docs/studio.md): the forms from the library's registries, the queue from
// server-sent events, the history from the runs folder.
'use strict';

const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

// h('div.class#id', {attr: value, onclick: fn}, child, ...)
function h(spec, attrs, ...children) {
  const m = spec.match(/^([a-z0-9]+)((?:[.#][\w-]+)*)$/i);
  const el = document.createElement(m[1]);
  for (const part of (m[2] || '').match(/[.#][\w-]+/g) || []) {
    if (part[0] === '.') el.classList.add(part.slice(1));
    else el.id = part.slice(1);
  }
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k in el && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

const state = {
  info: null,
  registry: null,
  lists: {},
  fields: {},          // parameter key -> {param, el, get(), set(v)}
  sound: null,         // {upload, run, name, seconds, ...}
  jobs: new Map(),     // id -> job
  mine: new Set(),     // jobs this tab started: their result opens when done
  run: null,           // the run shown
  players: [],         // the result's players
  ab: {a: null, b: null},
  audio: null,         // the AudioContext of the players
};

// ---------------------------------------------------------------- the API

class ApiError extends Error {
  constructor(status, body) {
    super((body && body.error) || ('The server answered ' + status + '.'));
    this.status = status;
    this.detail = body && body.detail;
    this.code = body && body.code;
  }
}

async function api(method, path, body) {
  const opts = {method, credentials: 'same-origin', headers: {}};
  if (body !== undefined) {
    opts.headers['Content-Type'] = 'application/json';
    opts.body = JSON.stringify(body);
  }
  let r;
  try {
    r = await fetch(path, opts);
  } catch (e) {
    throw new ApiError(0, {error: 'The studio cannot be reached: is a2i2a serve still running?'});
  }
  const text = await r.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
  if (!r.ok) throw new ApiError(r.status, data);
  return data;
}

function showError(box, err) {
  box.replaceChildren(h('div', null, err.message), err.detail ? h('div.detail', null, err.detail) : null);
  box.classList.remove('hidden');
}

function fmtSeconds(s) {
  if (s === null || s === undefined || s < 0 || !isFinite(s)) return '';
  if (s < 1) return 'under a second';
  if (s < 60) return Math.round(s) + ' s';
  const m = Math.floor(s / 60), r = Math.round(s % 60);
  return m + ' min' + (r ? ' ' + r + ' s' : '');
}

// ---------------------------------------------------------------- the form, from the registries

// The form is made from the chain's parameter table as /api/registry serves it (lists.params:
// each parameter's run.json key, description, and details: stage, type, default, min, max, step,
// zero, choices, values, multiple, nullable, unset, preset). Nothing about a parameter is typed
// here; the page only chooses where a field goes: what the presets set is shown first, the rest
// under "More settings", grouped by stage.
const GROUPS = {a2i: 'Spectrogram (a2i)', i2i: 'Painting (i2i)', i2a: 'Readings (i2a)', run: 'The run'};
// API keys with a control of their own (docs/studio.md): the preset is the form's base, the
// model is one of the server's models, the vocoder none or the server's, and named prompts can
// fill the prompt.
const PRESET_KEY = 'preset', MODEL_KEY = 'model.name', VOCODER_KEY = 'i2a.vocoder', PROMPT_KEY = 'i2i.prompt';

function listEntries(name) { return state.lists[name] || []; }
function params() { return listEntries('params'); }

// "a2i.db_range" → "Db range": the key without its stage, in words.
function labelOf(p) {
  const parts = p.name.split('.');
  if (parts.length > 1 && parts[0] === p.details.stage) parts.shift();
  const words = parts.join(' ').replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

class FieldError extends Error {
  constructor(field, message) {
    super(message);
    this.field = field;
  }
}

// A number field's value as the table accepts it, or a FieldError; '' is 0 where 0 means
// "unset" (the stage's default).
function numberValue(p, input, emptyIsZero) {
  const d = p.details, label = labelOf(p);
  if (input.validity.badInput) throw new FieldError(input, label + ': not a number.');
  if (input.value === '' && emptyIsZero) return 0;
  const v = Number(input.value);
  const range = '[' + d.min + ', ' + d.max + ']' + (d.zero ? ', or empty for the default' : '');
  if (input.value === '' || !isFinite(v)) throw new FieldError(input, label + ': give a number in ' + range + '.');
  if (d.zero && v === 0) return 0;
  if (d.type === 'int' && !Number.isInteger(v)) throw new FieldError(input, label + ': ' + v + ' is not a whole number.');
  if (v < d.min || v > d.max) throw new FieldError(input, label + ': ' + v + ' is not in ' + range + '.');
  return v;
}

// A seed: a whole number from 0 to 2^64 - 1; beyond 2^53 as a decimal string (JSON numbers are doubles).
function seedValue(p, input) {
  const t = input.value.trim();
  if (!/^\d{1,20}$/.test(t) || BigInt(t) >= 2n ** 64n)
    throw new FieldError(input, labelOf(p) + ': give a whole number from 0 to 2^64 - 1.');
  return BigInt(t) <= 2n ** 53n ? Number(t) : t;
}

function choiceEntries(d) {
  const entries = d.choices ? listEntries(d.choices) : [];
  return (d.values || entries.map(e => e.name)).map(n => entries.find(e => e.name === n) || {name: n, description: ''});
}

function makeField(p, main) {
  const d = p.details;
  const id = 'f-' + p.name.replace(/[^\w-]/g, '-');
  const label = h('label', {for: id}, labelOf(p));
  const wrap = h('div.field', {title: p.name + ': ' + p.description, dataset: {key: p.name}}, label);
  const hint = h('p.hint');
  const hints = [];
  if (!main) hints.push(p.description);
  // what null or 0 stands for, where the table says (the stage's own default)
  if (d.unset && !(d.type === 'text' && main)) hints.push('default: ' + d.unset);
  let get, set;

  if (p.name === MODEL_KEY) {
    const sel = h('select', {id});
    for (const m of state.registry.models) sel.append(h('option', {value: m}, m));
    wrap.append(sel);
    wrap.classList.add('wide');
    get = () => sel.value;
    set = v => {
      if (v && !Array.from(sel.options).some(o => o.value === v)) sel.append(h('option', {value: v}, v));
      sel.value = v || '';
    };
  } else if (p.name === VOCODER_KEY) {
    // a path on the server is not the page's to choose: none, or the server's --vocoder
    const sel = h('select', {id}, h('option', {value: ''}, 'none'));
    for (const v of state.registry.vocoders || []) sel.append(h('option', {value: v}, v));
    sel.disabled = sel.options.length < 2;
    if (sel.disabled) hints.push('start the studio with --vocoder to offer one');
    wrap.append(sel);
    get = () => (sel.value === '' ? null : sel.value);
    set = v => { sel.value = v && Array.from(sel.options).some(o => o.value === v) ? v : ''; };
  } else if (d.type === 'choice' && d.multiple) {
    const all = h('input', {type: 'checkbox', id: id + '-all'});
    const boxes = choiceEntries(d).map(e => {
      const cb = h('input', {type: 'checkbox', value: e.name, dataset: {reading: e.name}});
      return [cb, h('label.chip', {title: e.description}, cb, e.name)];
    });
    wrap.append(h('div.chips', null, h('label.chip', {title: 'every one, in this order'}, all, 'all'), boxes.map(b => b[1])));
    wrap.classList.add('wide');
    label.textContent = '';
    all.addEventListener('change', () => boxes.forEach(([cb]) => { cb.checked = all.checked; }));
    boxes.forEach(([cb]) => cb.addEventListener('change', () => { all.checked = boxes.every(([b]) => b.checked); }));
    get = () => {
      if (all.checked) return 'all';
      const on = boxes.filter(([cb]) => cb.checked).map(([cb]) => cb.value);
      if (!on.length) throw new FieldError(all, 'Choose at least one of ' + (d.choices || labelOf(p)) + '.');
      return on.join(',');
    };
    set = v => {
      const names = v === 'all' ? null : String(v || '').split(',');
      boxes.forEach(([cb]) => { cb.checked = !names || names.includes(cb.value); });
      all.checked = boxes.every(([cb]) => cb.checked);
    };
  } else if (d.type === 'choice') {
    const sel = h('select', {id});
    if (d.nullable) sel.append(h('option', {value: ''}, 'default'));
    for (const e of choiceEntries(d)) sel.append(h('option', {value: e.name, title: e.description}, e.name));
    wrap.append(sel);
    get = () => (sel.value === '' ? null : sel.value);
    set = v => { sel.value = v === null || v === undefined ? '' : v; };
  } else if (d.type === 'flag') {
    const cb = h('input', {type: 'checkbox', id});
    wrap.replaceChildren(h('label.inline', {for: id}, cb, labelOf(p)));
    get = () => cb.checked;
    set = v => { cb.checked = !!v; };
  } else if (d.type === 'int' && d.step) {
    // a few values (16, 24 or 32): one of them, or the default
    const sel = h('select', {id});
    if (d.zero) sel.append(h('option', {value: '0'}, 'default'));
    for (let v = d.min; v <= d.max; v += d.step) sel.append(h('option', {value: String(v)}, String(v)));
    wrap.append(sel);
    get = () => Number(sel.value);
    set = v => { sel.value = String(v || (d.zero ? 0 : d.min)); };
  } else if (d.type === 'int' || d.type === 'number') {
    // 0 is "unset" where the table says so (zero: the stage's default): shown as an empty "default"
    const emptyIsZero = d.zero || (!!d.unset && d.min <= 0);
    const num = h('input', {type: 'number', id, min: d.min, max: d.max, step: d.type === 'int' ? '1' : 'any'});
    if (emptyIsZero) num.placeholder = 'default';
    const shown = v => (emptyIsZero && Number(v) === 0 ? '' : v);
    const pair = h('div.pair', null);
    if (!d.zero) {
      const range = h('input', {type: 'range', min: d.min, max: d.max, step: d.type === 'int' ? 1 : (d.max - d.min) / 100,
                                'aria-label': labelOf(p)});
      range.addEventListener('input', () => { num.value = shown(range.value); });
      num.addEventListener('input', () => { range.value = num.value === '' ? 0 : num.value; });
      pair.append(range);
      set = v => { num.value = shown(v); range.value = v; };
    } else {
      set = v => { num.value = shown(v); };
    }
    pair.append(num);
    num.style.width = pair.children.length > 1 ? '' : '100%';
    wrap.append(pair);
    get = () => numberValue(p, num, emptyIsZero);
  } else if (d.type === 'seed') {
    const num = h('input', {type: 'text', id, inputmode: 'numeric', class: 'seed'});
    const random = h('input', {type: 'checkbox', id: id + '-random'});
    random.addEventListener('change', () => { num.disabled = random.checked; });
    wrap.append(h('div.pair', null, num, h('label.inline', {for: id + '-random'}, random, 'random')));
    get = () => {
      if (random.checked) num.value = String(Math.floor(Math.random() * 4294967296));
      return seedValue(p, num);
    };
    set = v => { num.value = String(v); };
  } else {
    // text: null where the table allows it and the value was null (the stage's own, d.unset)
    let original = null;
    const input = h('textarea', {id, rows: p.name === PROMPT_KEY ? 3 : 2});
    if (d.nullable && d.unset) input.placeholder = d.unset;
    wrap.append(input);
    wrap.classList.add('wide');
    get = () => (input.value === '' && d.nullable && original === null ? null : input.value);
    set = v => { original = v; input.value = v === null || v === undefined ? '' : v; };
  }
  if (p.name === PROMPT_KEY && listEntries('prompts').length) {
    const named = h('select.small-select', {id: 'named-prompt', 'aria-label': 'Named prompts'},
                    h('option', {value: ''}, 'named prompts…'),
                    listEntries('prompts').map(e => h('option', {value: e.name, title: e.description}, e.name)));
    named.addEventListener('change', () => {
      const e = listEntries('prompts').find(x => x.name === named.value);
      if (e) $('#' + id).value = e.description;
      named.value = '';
    });
    label.append(named);
  }
  if (hints.length) {
    hint.textContent = hints.join(' · ');
    wrap.append(hint);
  }
  return {param: p, el: wrap, get, set};
}

function buildForm() {
  const main = $('#fields-main'), more = $('#fields-more'), readings = $('#fields-readings');
  // one seed for the painting and the readings, as `a2i2a run --seed`: the first; the server
  // makes the others follow it
  const seed = params().find(p => p.details.type === 'seed');
  const shown = params().filter(p => p.name !== PRESET_KEY && (p.details.type !== 'seed' || p === seed));
  // the texts (a whole row each) first, then the rest two by two
  const first = shown.filter(p => p.details.preset && !p.details.multiple);
  for (const p of [...first.filter(p => p.details.type === 'text'), ...first.filter(p => p.details.type !== 'text')]) {
    state.fields[p.name] = makeField(p, true);
    main.append(state.fields[p.name].el);
  }
  for (const p of shown.filter(p => p.details.multiple)) {
    state.fields[p.name] = makeField(p, true);
    readings.append(state.fields[p.name].el);
  }
  let group = null;
  for (const p of shown.filter(p => !state.fields[p.name])) {
    if (p.details.stage !== group) {
      group = p.details.stage;
      more.append(h('div.group-title', null, GROUPS[group] || group));
    }
    state.fields[p.name] = makeField(p, false);
    more.append(state.fields[p.name].el);
  }
  const preset = $('#preset');
  const presetParam = params().find(p => p.name === PRESET_KEY);
  for (const e of listEntries(presetParam ? presetParam.details.choices : 'presets'))
    preset.append(h('option', {value: e.name, title: e.description}, e.name));
  preset.addEventListener('change', () => applyPreset(preset.value));
  applyPreset(preset.value);
}

// A preset's value of every parameter: what it sets (its registry entry), else the default.
function presetValues(name) {
  const e = listEntries('presets').find(x => x.name === name);
  return Object.fromEntries(params().map(p => [p.name, e && p.name in e.details ? e.details[p.name] : p.details.default]));
}

function applyPreset(name) {
  const e = listEntries('presets').find(x => x.name === name);
  $('#preset-desc').textContent = e ? e.description : '';
  const values = presetValues(name);
  for (const [key, f] of Object.entries(state.fields)) if (key in values) f.set(values[key]);
  // the server's --model stands in for the presets' models, as --model does on the command line
  if (state.info.model && state.fields[MODEL_KEY]) state.fields[MODEL_KEY].set(state.info.model);
  // and its --vocoder for the presets' none, as the server does for a job that names none
  const vocoders = state.registry.vocoders || [];
  if (vocoders.length && state.fields[VOCODER_KEY]) state.fields[VOCODER_KEY].set(vocoders[0]);
  for (const el of $$('.field .invalid')) el.classList.remove('invalid');
}

// The form's parameters; a FieldError (its field marked and shown) for a value the table would
// refuse, so that nothing out of range is sent.
function formParams() {
  const out = {[PRESET_KEY]: $('#preset').value};
  for (const el of $$('.field .invalid')) el.classList.remove('invalid');
  for (const [key, f] of Object.entries(state.fields)) {
    try {
      out[key] = f.get();
    } catch (e) {
      if (!(e instanceof FieldError)) throw e;
      e.field.classList.add('invalid');
      if (e.field.closest('#more')) $('#more').open = true;
      e.field.focus();
      throw e;
    }
  }
  return out;
}

function fillForm(values) {
  if (values[PRESET_KEY]) $('#preset').value = values[PRESET_KEY];
  applyPreset($('#preset').value);
  for (const [key, f] of Object.entries(state.fields)) if (key in values) f.set(values[key]);
}

// ---------------------------------------------------------------- the sound

function setSound(sound) {
  state.sound = sound;
  const box = $('#sound');
  if (!sound) {
    box.classList.add('hidden');
    $('#drop').classList.remove('hidden');
    $('#sound-player').removeAttribute('src');
  } else {
    $('#sound-name').textContent = sound.name;
    const bits = [];
    if (sound.seconds) bits.push(sound.seconds.toFixed(1) + ' s');
    if (sound.rate) bits.push(Math.round(sound.rate) + ' Hz');
    if (sound.channels) bits.push(sound.channels === 1 ? 'mono' : sound.channels === 2 ? 'stereo' : sound.channels + ' channels');
    if (sound.run) bits.push('the sound of run ' + sound.run);
    $('#sound-meta').textContent = bits.join(' · ');
    const player = $('#sound-player');
    if (sound.upload) player.src = '/api/uploads/' + encodeURIComponent(sound.upload);
    else player.removeAttribute('src');
    player.classList.toggle('hidden', !sound.upload);
    box.classList.remove('hidden');
    $('#drop').classList.add('hidden');
  }
  updateStart();
}

function updateStart() {
  const ok = !!state.sound;
  $('#start').disabled = !ok;
  $('#start-hint').textContent = ok ? '' : 'Give a sound first.';
}

function upload(blob, name) {
  const box = $('#form-error');
  box.classList.add('hidden');
  const limit = state.info.limits.max_upload_bytes;
  if (blob.size > limit) {
    showError(box, new ApiError(413, {error: 'This file is larger than the ' + Math.round(limit / 1e6) +
                                             ' MB this studio accepts.'}));
    return Promise.resolve(null);
  }
  const bar = $('#upload-progress');
  bar.classList.remove('hidden');
  $('.bar', bar).style.width = '0';
  return new Promise(resolve => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/api/uploads');
    xhr.setRequestHeader('Content-Type', 'application/octet-stream');
    xhr.setRequestHeader('X-Filename', encodeURIComponent(name));
    xhr.upload.onprogress = e => { if (e.lengthComputable) $('.bar', bar).style.width = (100 * e.loaded / e.total) + '%'; };
    xhr.onload = () => {
      bar.classList.add('hidden');
      let data = null;
      try { data = JSON.parse(xhr.responseText); } catch (e) { data = null; }
      if (xhr.status === 201 && data) {
        setSound({upload: data.id, name: data.name, seconds: data.seconds, rate: data.rate, channels: data.channels});
        resolve(data);
      } else {
        showError(box, new ApiError(xhr.status, data));
        resolve(null);
      }
    };
    xhr.onerror = () => {
      bar.classList.add('hidden');
      showError(box, new ApiError(0, {error: 'The upload did not reach the studio (is it still running?).'}));
      resolve(null);
    };
    xhr.send(blob);
  });
}

function setupSoundInput() {
  const drop = $('#drop');
  $('#file-input').addEventListener('change', e => {
    const f = e.target.files[0];
    if (f) upload(f, f.name);
    e.target.value = '';
  });
  drop.addEventListener('dragover', e => { e.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', e => {
    e.preventDefault();
    drop.classList.remove('over');
    const f = e.dataTransfer.files[0];
    if (f) upload(f, f.name);
  });
  $('#sound-clear').addEventListener('click', () => setSound(null));
  $('#record').addEventListener('click', toggleRecording);
  const lim = state.info.limits;
  $('#limits-hint').textContent = 'WAV, FLAC, Ogg, MP3, AIFF · up to ' + Math.round(lim.max_upload_bytes / 1e6) +
    ' MB and ' + fmtSeconds(lim.max_upload_seconds);
}

// The microphone, recorded as PCM through the Web Audio API and sent as a WAV (Chromium's
// MediaRecorder makes WebM, which the chain's decoder does not read).
const recorder = {stream: null, ctx: null, node: null, chunks: [], started: 0, timer: null};

async function toggleRecording() {
  const button = $('#record');
  if (recorder.stream) return stopRecording();
  const box = $('#form-error');
  box.classList.add('hidden');
  try {
    recorder.stream = await navigator.mediaDevices.getUserMedia({audio: {echoCancellation: false, noiseSuppression: false, autoGainControl: false}});
  } catch (e) {
    showError(box, new ApiError(0, {error: 'The microphone cannot be used: ' + e.message}));
    return;
  }
  recorder.ctx = new AudioContext();
  const source = recorder.ctx.createMediaStreamSource(recorder.stream);
  recorder.node = recorder.ctx.createScriptProcessor(4096, 1, 1);
  recorder.chunks = [];
  recorder.node.onaudioprocess = e => recorder.chunks.push(new Float32Array(e.inputBuffer.getChannelData(0)));
  source.connect(recorder.node);
  recorder.node.connect(recorder.ctx.destination);
  recorder.started = performance.now();
  button.classList.add('on');
  const tick = () => {
    const s = (performance.now() - recorder.started) / 1000;
    $('.label', button).textContent = 'Stop ' + s.toFixed(1) + ' s';
    if (s >= state.info.limits.max_upload_seconds) stopRecording();
  };
  tick();
  recorder.timer = setInterval(tick, 100);
}

async function stopRecording() {
  const button = $('#record');
  clearInterval(recorder.timer);
  button.classList.remove('on');
  $('.label', button).textContent = 'Record';
  const rate = recorder.ctx.sampleRate;
  recorder.stream.getTracks().forEach(t => t.stop());
  recorder.node.disconnect();
  await recorder.ctx.close();
  recorder.stream = null;
  const n = recorder.chunks.reduce((a, c) => a + c.length, 0);
  const pcm = new Float32Array(n);
  let o = 0;
  for (const c of recorder.chunks) { pcm.set(c, o); o += c.length; }
  const stamp = new Date().toISOString().replace(/[:T]/g, '-').slice(0, 19);
  return upload(wavBlob(pcm, rate), 'recording-' + stamp + '.wav');
}

// 16-bit PCM mono WAV
function wavBlob(pcm, rate) {
  const buf = new ArrayBuffer(44 + pcm.length * 2);
  const v = new DataView(buf);
  const str = (at, s) => { for (let i = 0; i < s.length; i++) v.setUint8(at + i, s.charCodeAt(i)); };
  str(0, 'RIFF'); v.setUint32(4, 36 + pcm.length * 2, true); str(8, 'WAVE');
  str(12, 'fmt '); v.setUint32(16, 16, true); v.setUint16(20, 1, true); v.setUint16(22, 1, true);
  v.setUint32(24, rate, true); v.setUint32(28, rate * 2, true); v.setUint16(32, 2, true); v.setUint16(34, 16, true);
  str(36, 'data'); v.setUint32(40, pcm.length * 2, true);
  for (let i = 0; i < pcm.length; i++) {
    const s = Math.max(-1, Math.min(1, pcm[i]));
    v.setInt16(44 + 2 * i, s < 0 ? s * 32768 : s * 32767, true);
  }
  return new Blob([buf], {type: 'audio/wav'});
}

// ---------------------------------------------------------------- start

async function start() {
  const box = $('#form-error');
  box.classList.add('hidden');
  if (!state.sound) return;
  $('#start').disabled = true;
  try {
    const body = {params: formParams(), input_name: state.sound.name};
    body.input = state.sound.run ? {run: state.sound.run} : {upload: state.sound.upload};
    const job = await api('POST', '/api/jobs', body);
    state.mine.add(job.id);
    updateJob(job);
    $('#jobs-panel').scrollIntoView({block: 'start'});
  } catch (e) {
    showError(box, e);
  } finally {
    updateStart();
  }
}

// ---------------------------------------------------------------- the queue

const STAGES = {
  starting: 'starting', loading: 'loading the model', fingerprint: 'checking the files', spectrogram: 'drawing the spectrogram',
  painting: 'painting', readings: 'reading the painting as sound', sheet: 'laying out the contact sheet',
};

function stageText(j) {
  if (j.state === 'queued') return j.position > 1 ? 'waiting: ' + (j.position - 1) + ' job(s) before it' : 'next';
  if (j.state === 'done') return 'done in ' + fmtSeconds(j.elapsed);
  if (j.state === 'cancelled') return 'cancelled';
  if (j.state === 'failed') return 'failed';
  let t = STAGES[j.stage] || j.stage || '';
  if (j.detail && j.stage === 'readings') t += ': ' + j.detail;
  if (j.total > 0) t += ' ' + j.step + '/' + j.total;
  if (j.cancelling) t = 'cancelling…';
  return t;
}

function jobCard(j) {
  let card = document.getElementById('job-' + j.id);
  if (!card) {
    card = h('div.job', {id: 'job-' + j.id, dataset: {id: j.id}},
      h('div.job-head', null, h('span.job-title'), h('span.badge')),
      h('div.preview-box', null, h('span.placeholder', null, 'the painting appears here')),
      h('div.progress', null, h('div.bar')),
      h('div.stage', null, h('span.what'), h('span.eta')),
      h('div.error.hidden'),
      h('div.actions', null,
        h('button.button.small.danger.cancel', {type: 'button', onclick: () => cancelJob(j.id)}, 'Cancel'),
        h('button.button.small.open.hidden', {type: 'button', onclick: () => openRun(card.dataset.run)}, 'Open')));
    const list = $('#jobs');
    list.prepend(card);
    $('#jobs-empty').classList.add('hidden');
  }
  return card;
}

function updateJob(j) {
  state.jobs.set(j.id, j);
  const card = jobCard(j);
  card.dataset.state = j.state;
  card.dataset.run = j.run;
  const s = j.settings || {};
  $('.job-title', card).textContent = j.kind === 'replay' ? j.input : (j.input + (s.seed !== undefined ? ' · seed ' + s.seed : ''));
  $('.job-title', card).title = s.prompt || j.input;
  const badge = $('.badge', card);
  badge.textContent = j.state;
  badge.className = 'badge ' + j.state;
  $('.bar', card).style.width = (100 * (j.state === 'done' ? 1 : j.fraction || 0)) + '%';
  $('.stage .what', card).textContent = stageText(j);
  $('.stage .eta', card).textContent = j.state === 'running' && j.eta > 0 ? 'about ' + fmtSeconds(j.eta) + ' left' : '';
  if (j.preview) {
    const box = $('.preview-box', card);
    let img = $('img', box);
    if (!img) {
      img = h('img.preview', {alt: 'the painting as it forms'});
      box.replaceChildren(img);
    }
    if (img.dataset.url !== j.preview.url) {
      img.dataset.url = j.preview.url;
      img.src = j.preview.url;
      img.title = 'after step ' + j.preview.step + ' of ' + j.preview.total + (j.preview.decoded ? ' (decoded)' : '');
    }
  }
  const err = $('.error', card);
  if (j.error && j.state !== 'cancelled') showError(err, new ApiError(0, {error: j.error.message, detail: j.error.detail}));
  else err.classList.add('hidden');
  $('.cancel', card).classList.toggle('hidden', !(j.state === 'queued' || j.state === 'running'));
  $('.open', card).classList.toggle('hidden', j.state !== 'done');
  updateSummary();
  if (j.state === 'done' && state.mine.has(j.id)) {
    state.mine.delete(j.id);
    openRun(j.run);
    loadHistory();
  }
}

function updateSummary() {
  let running = 0, queued = 0;
  for (const j of state.jobs.values()) {
    running += j.state === 'running';
    queued += j.state === 'queued';
  }
  const bits = [];
  if (running) bits.push(running + ' running');
  if (queued) bits.push(queued + ' queued');
  $('#queue-summary').textContent = bits.join(' · ');
}

async function cancelJob(id) {
  try {
    updateJob(await api('POST', '/api/jobs/' + encodeURIComponent(id) + '/cancel', {}));
  } catch (e) {
    showError($('#form-error'), e);
  }
}

function connect() {
  const conn = $('#conn');
  const es = new EventSource('/api/events');
  es.addEventListener('open', () => { conn.className = 'conn live'; conn.title = 'live updates'; });
  es.addEventListener('error', () => { conn.className = 'conn lost'; conn.title = 'reconnecting…'; });
  es.addEventListener('job', e => updateJob(JSON.parse(e.data)));
  es.addEventListener('runs', () => loadHistory());
}

// ---------------------------------------------------------------- the result

function fileUrl(run, name) {
  return '/api/runs/' + encodeURIComponent(run) + '/files/' + encodeURIComponent(name);
}

function audioContext() {
  if (!state.audio) state.audio = new AudioContext();
  return state.audio;
}

async function openRun(id) {
  let d;
  try {
    d = await api('GET', '/api/runs/' + encodeURIComponent(id));
  } catch (e) {
    showError($('#form-error'), e);
    return;
  }
  for (const p of state.players) p.audio.pause();
  state.players = [];
  state.run = d;
  const box = $('#result');
  box.dataset.run = d.id;
  const title = d.prompt || d.id;
  const meta = [d.preset && 'preset ' + d.preset, d.style && 'style ' + d.style, 'seed ' + d.seed, d.steps + ' steps',
                d.sampler, 'strength ' + d.strength, d.model, d.input, new Date(d.time * 1000).toLocaleString()]
    .filter(Boolean).join(' · ');
  const head = h('div.result-head', null,
    h('div', null, h('h2', null, title), h('div.meta', null, meta)),
    h('div.buttons', null,
      h('button.button#run-again', {type: 'button', onclick: () => runAgain(d)}, 'Run again with changes'),
      h('button.button#replay', {type: 'button', onclick: () => replay(d.id)}, 'Replay'),
      h('a.button#download-zip', {href: '/api/runs/' + encodeURIComponent(d.id) + '/zip', download: d.id.replace(/:/g, '_') + '.zip'}, 'Download all (zip)'),
      h('button.button.danger#delete-run', {type: 'button', onclick: () => deleteRun(d.id)}, 'Delete')));
  const pictures = h('div.pictures', null,
    ['spectrogram.png', 'art.png'].filter(n => d.files.includes(n)).map(n =>
      h('figure.picture', null, h('img', {src: fileUrl(d.id, n), alt: n}),
        h('figcaption', null, h('span', null, n === 'art.png' ? 'the painting' : 'the spectrogram'),
          h('a', {href: fileUrl(d.id, n), download: n}, n)))));
  const matched = h('input', {type: 'checkbox', id: 'matched', checked: true});
  matched.addEventListener('change', setGains);
  const abButton = h('button.button.small#ab-switch', {type: 'button', onclick: switchAB}, 'A ⇄ B');
  const bar = h('div.players-bar', null,
    h('label', {for: 'matched', title: 'play every reading at the same integrated loudness (EBU R128), measured by the server'},
      matched, 'Same loudness'),
    h('span.hint#loudness-note'),
    h('div.ab', null, h('span#ab-text.hint'), abButton, h('span.hint', null, 'or press X')));
  const players = h('div.players');
  const sounds = d.sounds || [];
  state.ab = {a: sounds[0] ? sounds[0].reading : null, b: sounds[1] ? sounds[1].reading : null};
  for (const s of sounds) players.append(makePlayer(d, s));
  const files = h('div.files', null, h('span.hint', null, 'Files:'),
    d.files.concat(['run.json']).map(n => h('a.button.small', {href: fileUrl(d.id, n), download: n}, n)));
  const rows = [];
  const flat = (o, prefix) => {
    for (const [k, v] of Object.entries(o)) {
      if (v && typeof v === 'object' && !Array.isArray(v)) flat(v, prefix + k + '.');
      else rows.push(h('tr', null, h('td', null, prefix + k), h('td', null, v === null ? 'default' : String(v))));
    }
  };
  flat(d.settings, '');
  const settings = h('details.settings', null, h('summary', null, 'Settings (run.json)'), h('table', null, h('tbody', null, rows)));
  box.replaceChildren(head, pictures, sounds.length ? bar : null, players, files, settings);
  box.classList.remove('hidden');
  box.scrollIntoView({block: 'start'});
  updateAB();
  setGains();
  $$('.card', $('#history')).forEach(c => c.classList.toggle('selected', c.dataset.run === d.id));
}

function makePlayer(run, s) {
  const audio = h('audio', {controls: true, preload: 'auto'});
  const wave = h('canvas.wave'), spec = h('canvas.spec');
  const pick = side => {
    const r = h('input', {type: 'radio', name: 'ab-' + side, value: s.reading, checked: state.ab[side] === s.reading});
    r.addEventListener('change', () => { state.ab[side] = s.reading; updateAB(); });
    return h('label', {title: 'compare as ' + side.toUpperCase()}, r, side.toUpperCase());
  };
  const loud = h('span.loud');
  const card = h('div.player', {dataset: {reading: s.reading}},
    h('div.player-head', null, h('span.name', null, s.reading), loud),
    h('p.desc', null, s.description || ''),
    wave, spec, audio,
    h('div.foot', null, h('span.abpick', null, pick('a'), pick('b')),
      h('span.hint', null, fmtSeconds(s.seconds)),
      h('a', {href: fileUrl(run.id, s.file), download: s.file}, s.file)));
  const player = {reading: s.reading, lufs: s.lufs, peak: s.peak, audio, card, loud, gain: null};
  state.players.push(player);
  audio.addEventListener('play', () => {
    if (state.audio && state.audio.state === 'suspended') state.audio.resume();
    for (const p of state.players) if (p !== player && !p.audio.paused) p.audio.pause();
    card.classList.add('playing');
  });
  audio.addEventListener('pause', () => card.classList.remove('playing'));
  // the bytes once: a blob for the player (seekable), decoded for the pictures
  fetch(fileUrl(run.id, s.file), {credentials: 'same-origin'}).then(r => r.arrayBuffer()).then(bytes => {
    audio.src = URL.createObjectURL(new Blob([bytes], {type: 'audio/wav'}));
    const ctx = audioContext();
    const source = ctx.createMediaElementSource(audio);
    player.gain = ctx.createGain();
    source.connect(player.gain).connect(ctx.destination);
    setGains();
    return ctx.decodeAudioData(bytes);
  }).then(buffer => {
    drawWave(wave, buffer);
    drawSpectrogram(spec, buffer);
  }).catch(e => { loud.textContent = 'cannot be shown: ' + e.message; });
  return card;
}

// Every reading at one integrated loudness, the median of theirs: a quieter one is raised only as
// far as its peak allows (nothing clips), and says so.
function setGains() {
  const matched = $('#matched') ? $('#matched').checked : false;
  const levels = state.players.map(p => p.lufs).filter(l => typeof l === 'number').sort((a, b) => a - b);
  const target = levels.length ? levels[Math.floor((levels.length - 1) / 2)] : null;
  for (const p of state.players) {
    let db = 0, short = 0;
    if (matched && target !== null && typeof p.lufs === 'number') {
      db = target - p.lufs;
      const headroom = p.peak > 0 ? -20 * Math.log10(p.peak) : 0;
      if (db > headroom) short = db - headroom, db = headroom;
    }
    if (p.gain) p.gain.gain.value = Math.pow(10, db / 20);
    p.card.dataset.gainDb = db.toFixed(2);
    p.loud.textContent = typeof p.lufs === 'number'
      ? p.lufs.toFixed(1) + ' LUFS' + (matched ? ' · ' + (Math.abs(db) < 0.05 ? '±0' : (db > 0 ? '+' : '') + db.toFixed(1)) + ' dB' +
        (short > 0.05 ? ' (' + short.toFixed(1) + ' dB quieter: its peaks)' : '') : '')
      : 'silent';
  }
  const note = $('#loudness-note');
  if (note) note.textContent = matched && target !== null ? 'all at ' + target.toFixed(1) + ' LUFS (EBU R128)' : 'as written';
}

function updateAB() {
  for (const p of state.players) {
    p.card.classList.toggle('is-a', p.reading === state.ab.a);
    p.card.classList.toggle('is-b', p.reading === state.ab.b);
  }
  const t = $('#ab-text');
  if (t) t.textContent = state.ab.a && state.ab.b ? 'A ' + state.ab.a + ' · B ' + state.ab.b : 'pick A and B';
}

// A/B: the other one goes on from the same moment.
function switchAB() {
  const a = state.players.find(p => p.reading === state.ab.a), b = state.players.find(p => p.reading === state.ab.b);
  if (!a || !b) return;
  const [from, to] = !b.audio.paused ? [b, a] : !a.audio.paused ? [a, b] : [null, a];
  if (from) {
    from.audio.pause();
    to.audio.currentTime = Math.min(from.audio.currentTime, to.audio.duration || from.audio.currentTime);
  }
  to.audio.play();
  const btn = $('#ab-switch');
  if (btn) btn.dataset.playing = to === a ? 'a' : 'b';
}

document.addEventListener('keydown', e => {
  if (e.key !== 'x' && e.key !== 'X') return;
  if (e.target.closest('input, textarea, select')) return;
  switchAB();
});

function drawWave(canvas, buffer) {
  const w = canvas.width = canvas.clientWidth * devicePixelRatio, hgt = canvas.height = canvas.clientHeight * devicePixelRatio;
  const g = canvas.getContext('2d');
  const x = buffer.getChannelData(0), n = x.length, mid = hgt / 2;
  let peak = 1e-9;
  for (let i = 0; i < n; i++) peak = Math.max(peak, Math.abs(x[i]));
  const grad = g.createLinearGradient(0, 0, w, 0);
  grad.addColorStop(0, '#7d4cdb');
  grad.addColorStop(0.5, '#ff8a3d');
  grad.addColorStop(1, '#ffc857');
  g.fillStyle = grad;
  for (let c = 0; c < w; c++) {
    let lo = 0, hi = 0;
    const a = Math.floor(c * n / w), b = Math.max(a + 1, Math.floor((c + 1) * n / w));
    for (let i = a; i < b && i < n; i++) { if (x[i] < lo) lo = x[i]; if (x[i] > hi) hi = x[i]; }
    const y0 = mid - (hi / peak) * mid * 0.95, y1 = mid - (lo / peak) * mid * 0.95;
    g.fillRect(c, y0, 1, Math.max(1, y1 - y0));
  }
}

// An in-place radix-2 FFT (re, im of length n, a power of two).
function fft(re, im) {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) { [re[i], re[j]] = [re[j], re[i]]; [im[i], im[j]] = [im[j], im[i]]; }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const ang = -2 * Math.PI / len, wr = Math.cos(ang), wi = Math.sin(ang);
    for (let i = 0; i < n; i += len) {
      let cr = 1, ci = 0;
      for (let k = 0; k < len / 2; k++) {
        const a = i + k, b = a + len / 2;
        const tr = re[b] * cr - im[b] * ci, ti = re[b] * ci + im[b] * cr;
        re[b] = re[a] - tr; im[b] = im[a] - ti; re[a] += tr; im[a] += ti;
        const t = cr * wr - ci * wi; ci = cr * wi + ci * wr; cr = t;
      }
    }
  }
}

// black -> violet -> red -> orange -> pale yellow, like the library's "ember"
const EMBER = [[0, 0, 0, 4], [0.25, 60, 15, 110], [0.5, 185, 50, 90], [0.75, 250, 140, 40], [1, 252, 250, 190]];
function ember(v) {
  for (let i = 1; i < EMBER.length; i++) {
    if (v <= EMBER[i][0]) {
      const [a, b] = [EMBER[i - 1], EMBER[i]], t = (v - a[0]) / (b[0] - a[0]);
      return [0, 1, 2].map(k => a[k + 1] + t * (b[k + 1] - a[k + 1]));
    }
  }
  return EMBER[EMBER.length - 1].slice(1);
}

// A spectrogram on a logarithmic frequency axis (40 Hz to the Nyquist frequency), 80 dB shown.
function drawSpectrogram(canvas, buffer) {
  const w = canvas.width = Math.max(1, Math.round(canvas.clientWidth * devicePixelRatio));
  const hgt = canvas.height = Math.max(1, Math.round(canvas.clientHeight * devicePixelRatio));
  const x = buffer.getChannelData(0), n = x.length, rate = buffer.sampleRate, N = 1024;
  const win = new Float32Array(N).map((_, i) => 0.5 - 0.5 * Math.cos(2 * Math.PI * i / N));
  const db = new Float32Array(w * hgt);
  const re = new Float64Array(N), im = new Float64Array(N);
  const fmin = 40, fmax = rate / 2;
  const rowBin = new Float32Array(hgt).map((_, r) => (fmin * Math.pow(fmax / fmin, (hgt - 1 - r) / (hgt - 1))) * N / rate);
  let top = -Infinity;
  for (let c = 0; c < w; c++) {
    const center = Math.floor((c + 0.5) * n / w);
    for (let i = 0; i < N; i++) {
      const k = center - N / 2 + i;
      re[i] = k >= 0 && k < n ? x[k] * win[i] : 0;
      im[i] = 0;
    }
    fft(re, im);
    for (let r = 0; r < hgt; r++) {
      const bin = Math.min(N / 2, Math.round(rowBin[r]));
      const v = 10 * Math.log10(re[bin] * re[bin] + im[bin] * im[bin] + 1e-12);
      db[r * w + c] = v;
      if (v > top) top = v;
    }
  }
  const g = canvas.getContext('2d');
  const img = g.createImageData(w, hgt);
  for (let i = 0; i < w * hgt; i++) {
    const [r, gg, b] = ember(Math.max(0, Math.min(1, (db[i] - top + 80) / 80)));
    img.data[4 * i] = r; img.data[4 * i + 1] = gg; img.data[4 * i + 2] = b; img.data[4 * i + 3] = 255;
  }
  g.putImageData(img, 0, 0);
}

function runAgain(d) {
  fillForm(d.params || {});
  setSound({run: d.id, upload: d.upload, name: d.input || d.id});
  $('#new-run').scrollIntoView({behavior: 'smooth'});
  $('#start-hint').textContent = 'The form holds the settings of ' + d.id + ': change what you like.';
}

async function replay(id) {
  try {
    const job = await api('POST', '/api/jobs', {replay: id});
    state.mine.add(job.id);
    updateJob(job);
  } catch (e) {
    showError($('#form-error'), e);
  }
}

async function deleteRun(id) {
  if (!confirm('Delete the run ' + id + ' and its files?')) return;
  try {
    await api('DELETE', '/api/runs/' + encodeURIComponent(id));
    for (const p of state.players) p.audio.pause();
    state.players = [];
    $('#result').classList.add('hidden');
    $('#result').replaceChildren();
    loadHistory();
  } catch (e) {
    showError($('#form-error'), e);
  }
}

// ---------------------------------------------------------------- history

let historyTimer = null;
async function loadHistory() {
  const q = $('#history-search').value.trim();
  let data;
  try {
    data = await api('GET', '/api/runs?limit=200' + (q ? '&q=' + encodeURIComponent(q) : ''));
  } catch (e) {
    $('#history-count').textContent = e.message;
    return;
  }
  const g = $('#history');
  g.replaceChildren(...data.runs.map(r => h('button.card', {type: 'button', dataset: {run: r.id}, onclick: () => openRun(r.id),
                                                             title: r.prompt || r.id},
    r.files.includes('art.png') ? h('img', {src: fileUrl(r.id, 'art.png'), alt: '', loading: 'lazy'}) : h('img', {alt: ''}),
    h('div.body', null, h('span.prompt', null, r.prompt || r.id),
      h('span.meta', null, 'seed ' + r.seed + ' · ' + (r.preset || '') + ' · ' + new Date(r.time * 1000).toLocaleString())))));
  if (state.run) $$('.card', g).forEach(c => c.classList.toggle('selected', c.dataset.run === state.run.id));
  $('#history-count').textContent = data.total + (data.total === 1 ? ' run' : ' runs') + (q ? ' found' : '');
  if (!data.runs.length) g.append(h('p.empty', null, q ? 'Nothing matches.' : 'No runs yet.'));
}

// ---------------------------------------------------------------- start up

async function main() {
  try {
    [state.info, state.registry] = await Promise.all([api('GET', '/api/info'), api('GET', '/api/registry')]);
  } catch (e) {
    document.body.replaceChildren(h('div.panel.error', null, h('h2', null, 'The studio cannot start'), e.message,
                                    e.detail ? h('div.detail', null, e.detail) : null));
    return;
  }
  state.lists = state.registry.lists;
  buildForm();
  setupSoundInput();
  $('#start').addEventListener('click', start);
  $('#history-search').addEventListener('input', () => {
    clearTimeout(historyTimer);
    historyTimer = setTimeout(loadHistory, 200);
  });
  connect();
  loadHistory();
  document.body.dataset.ready = '1';
}

main();
