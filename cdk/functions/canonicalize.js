// pixflow viewer-request function (cloudfront-js-2.0): rewrites every accepted URL form into
// the origin form /{key}?o={canonical}[&s=][&exp=][&{parameters no one defines}], resolving f_auto
// from Accept and dpr_auto/w_auto from the client hints. Whatever it cannot rewrite — a value the
// origin refuses, a name it does not know, another service's URL form — goes to the origin as it
// came, and the origin (which reads every form) answers: the error texts live there only.
// Mirrors src/spec/parse.rs; tests/vectors/canonical.json holds the cases both must agree on.
var MAX_SIDE = 8192;
var NAMES = 'w h c g dpr q f gray e blur sharpen a bg x y pg rect t s exp'.split(' ');
// Name tables, written compactly (the deployed code must stay under 10 KB): `name:value`, or a
// bare `name` that maps to itself.
function table(list) {
  var o = Object.create(null);
  list.split(' ').forEach(function (p) { var kv = p.split(':'); o[kv[0]] = kv.length > 1 ? kv[1] : kv[0]; });
  return o;
}
var MODES = table('limit: scale-down: max: fit inside:fit clip:fit fill cover:fill lfill pad contain:pad lpad scale stretch:scale squeeze:scale crop');
// imgix's fit= values that differ from the path's c_ (DESIGN §2), and its formats written otherwise.
var QFIT = table('crop:fill fill:pad min:lfill fillmax:lpad');
var QFM = table('pjpg:jpeg png32:png');
var COMPASS = 'north_west north north_east west  east south_west south south_east'.split(' ');
var GRAV = table('center: centre: c: north n:north south s:south east e:east west w:west north_east ne:north_east north_west nw:north_west south_east se:south_east south_west sw:south_west');
var FMT = table('jpeg jpg:jpeg png webp avif gif auto json thumbhash auto-avif auto-webp');
var QN = table('w width:w h height:h g gravity:g dpr q quality:q blur bg x y pg page:pg frame:pg preset:t s sig:s exp expires:exp');

// AWS's image handler's forms, by their look (src/spec/dialects/aws_handler.rs `looks_like`): a Thumbor
// command first, or a base64 JSON object. They go to the origin unchanged; a key that looks like
// one, or whose first folder looks like options, is written -/{key}.
var HANDLER = /^\/((unsafe|(adaptive-|full-)?fit-in|trim|meta|smart|(filters|s3|trim):[^\/]*|-?\d+x-?\d*|-?x-?\d+|\d+x\d+:\d+x\d+)\/|ey[I-L][A-Za-z0-9+\/]*={0,2}$)/;
function misread(k) {
  var i = k.indexOf('/'), f = i < 0 ? '' : k.slice(0, i);
  return HANDLER.test('/' + k) || f === '-' || f !== '' && f.split(',').every(function (t) {
    var u = t.indexOf('_');
    return NAMES.indexOf(u < 0 ? t : t.slice(0, u)) >= 0;
  });
}

// What the function cannot rewrite; the request then goes to the origin unchanged.
var NO = new Error('to the origin');
function no() { throw NO; }

// Percent-decodes once, like the percent-encoding crate: a stray % stays literal; bad UTF-8 fails.
function decode(s) {
  try { return decodeURIComponent(s.replace(/%(?![0-9A-Fa-f]{2})/g, '%25')); }
  catch (e) { no(); }
}
function enc(k) {
  return encodeURIComponent(k).replace(/[!'()*]/g, function (c) {
    return '%' + c.charCodeAt(0).toString(16).toUpperCase();
  }).replace(/%2F/g, '/');
}
function uint(v, min, max) {
  var d = /^[0-9]+$/.test(v) ? v.replace(/^0+/, '') : no(), n = d ? Number(d) : 0;
  return d.length > 10 || n < min || n > max ? no() : n;
}
// A decimal with at most p places, as an integer scaled by 10^p; null when malformed.
function fixed(v, p) {
  var m = new RegExp('^([0-9]+)(?:\\.([0-9]{1,' + p + '}))?$').exec(v);
  if (!m) return null;
  var i = m[1].replace(/^0+/, '');
  if (i.length > 9) return null;
  var f = m[2] || '';
  while (f.length < p) f += '0';
  return (i ? Number(i) : 0) * Math.pow(10, p) + Number(f);
}
function dec(n, p) {
  var s = Math.pow(10, p), i = Math.floor(n / s), f = n % s;
  if (!f) return '' + i;
  var d = '' + f;
  while (d.length < p) d = '0' + d;
  return i + '.' + d.replace(/0+$/, '');
}
function centi(v, min, max) {
  var n = fixed(v, 2);
  return n === null || n < min || n > max ? no() : n;
}

// `w_auto`/`dpr_auto` as written: name + [:GIVEN] + [-HINTED].
function autoToken(n, a) {
  var f = n === 'w' ? String : function (x) { return dec(x, 2); };
  return n + '_auto' + (a.g === null ? '' : ':' + f(a.g)) + (a.h === null ? '' : '-' + f(a.h));
}
// Client hints (src/spec/hints.rs): a number above zero, else no hint; rounded up to few steps.
function hintNumber(v) {
  v = (v || '').trim();
  if (v.length > 24 || !/^[0-9]+(\.[0-9]+)?$/.test(v)) return null;
  var n = Number(v);
  return n > 0 ? n : null;
}
function dprStep(v) {
  var d = hintNumber(v);
  return d === null ? null : (d *= 100) <= 100 ? 100 : d <= 150 ? 150 : d <= 200 ? 200 : 300;
}
function widthStep(v) {
  var n = hintNumber(v);
  return n === null ? null : Math.max(Math.min(Math.ceil(n / 100), 1e6), 1) * 100;
}

// Defaults written explicitly: dropped from the canonical form, unless a preset is named, whose
// value they then override (?preset=thumb&fit=limit).
var DEF = {c:'c_limit', g:'g_center', dpr:'dpr_1', bg:'bg_ffffff'};
function Acc() { this.t = {}; this.d = {}; this.seen = {}; this.sig = null; this.ex = null; }
var P = Acc.prototype;
P.once = function (slot) {
  if (this.seen[slot]) no();
  this.seen[slot] = 1;
};
P.set = function (slot, tok, val) {
  this.once(slot);
  if (val !== '') this.t[slot] = val; else if (DEF[slot]) this.d[slot] = DEF[slot];
};
P.path = function (tok) {
  var i = tok.indexOf('_'), n = i < 0 ? tok : tok.slice(0, i), v = i < 0 ? null : tok.slice(i + 1);
  if (v === null) {
    if (n === 'gray') return this.set('gray', tok, 'gray');
    if (n === 'sharpen') return this.set('sharpen', tok, 'sharpen');
    no();
  }
  if (n === 'e' && v === 'grayscale') return this.set('gray', tok, 'gray');
  if (n === 'sharpen') return this.sharpen(tok, v);
  // o= never nests, so the parser's depth is fixed whatever the input.
  if (n === 'o') no();
  this.named(n, v, tok);
};
P.sharpen = function (tok, v) {
  var s = v === null ? 100 : centi(v, 30, 1000);
  this.set('sharpen', tok, s === 100 ? 'sharpen' : 'sharpen_' + dec(s, 2));
};
P.opts = function (tok, v) {
  if (!v) no();
  var p = v.split(','), i;
  for (i = 0; i < p.length; i++) this.path(p[i]);
};
// w_auto[:N][-HINTED] and dpr_auto[:D][-HINTED] (src/spec/options.rs); acc.w / acc.dpr hold them.
P.auto = function (n, v, tok) {
  var w = n === 'w', m = /^auto(?::([^-]+))?(?:-(.+))?$/.exec(v) || no();
  var num = function (x, hi) { return x === undefined ? null : w ? uint(x, 1, MAX_SIDE) : centi(x, 100, hi); };
  var a = { g: num(m[1], 400), h: num(m[2], 300) };
  if (!w) {
    if (a.h !== null && [100, 150, 200, 300].indexOf(a.h) < 0) no();
    if (a.g === 100) a.g = null;
    this.dpr = a.h || a.g || 100;
  }
  if (w) this.aw = a; else this.adpr = a;
  this.set(n, tok, autoToken(n, a));
};
P.named = function (n, v, tok) {
  var x, m;
  switch (n) {
    case 'w': case 'h':
      if (n === 'w' && v.slice(0, 4) === 'auto') return this.auto('w', v, tok);
      return this.set(n, tok, n + '_' + uint(v, 1, MAX_SIDE));
    case 'c':
      return this.set('c', tok, v in MODES ? MODES[v] && 'c_' + MODES[v] : no());
    case 'g':
      if (v === 'auto') return this.set('g', tok, 'g_auto');
      if ((v in GRAV)) return this.set('g', tok, GRAV[v] && 'g_' + GRAV[v]);
      m = v.split('x');
      var gx = m.length === 2 ? fixed(m[0], 4) : null, gy = m.length === 2 ? fixed(m[1], 4) : null;
      if (gx === null || gy === null || gx > 10000 || gy > 10000) no();
      return this.set('g', tok, gx === 5000 && gy === 5000 ? '' : 'g_' + dec(gx, 4) + 'x' + dec(gy, 4));
    case 'dpr':
      if (v.slice(0, 4) === 'auto') return this.auto('dpr', v, tok);
      x = this.dpr = centi(v, 100, 400);
      return this.set('dpr', tok, x === 100 ? '' : 'dpr_' + dec(x, 2));
    case 'q':
      x = /^auto(?::(best|good|eco|low))?$/.exec(v);
      return this.set('q', tok, x ? (x[1] && x[1] !== 'good' ? 'q_auto:' + x[1] : 'q_auto') : 'q_' + uint(v, 1, 100));
    case 'f':
      return this.set('f', tok, v in FMT ? 'f_' + FMT[v] : no());
    case 'blur':
      return this.set('blur', tok, 'blur_' + dec(centi(v, 30, 10000), 2));
    case 'a':
      if (v === '90' || v === '180' || v === '270') return this.set('rot', tok, 'a_' + v);
      if (v === 'hflip' || v === 'vflip') return this.set(v, tok, 'a_' + v);
      no();
    case 'bg':
      // imgix's RGB, ARGB, RRGGBB, AARRGGBB; opaque only. Colour names go to the origin.
      x = (v.charAt(0) === '#' ? v.slice(1) : v).toLowerCase();
      m = /^[0-9a-f]+$/.test(x) ? x.length : 0;
      if (m === 4 || m === 8) { if (x.slice(0, m / 4) !== 'ff'.slice(0, m / 4)) no(); x = x.slice(m / 4); }
      if (x.length === 3) x = x.replace(/./g, '$&$&');
      if (x.length !== 6 || !m) no();
      return this.set('bg', tok, x === 'ffffff' ? '' : 'bg_' + x);
    case 'x': case 'y':
      return this.set(n, tok, n + '_' + uint(v, 0, 1000000));
    case 'rect':
      m = v.split(':');
      return this.set('rect', tok, m.length === 4 ? 'rect_' + m.map(function (p, i) { return uint(p, i >> 1, 1e6); }).join(':') : no());
    case 'pg':
      return this.set('pg', tok, 'pg_' + uint(v, 1, 100000));
    case 't':
      return this.set('t', tok, /^[A-Za-z0-9_-]{1,64}$/.test(v) ? 't_' + v : no());
    case 's':
      if (!/^[A-Za-z0-9_-]{1,64}$/.test(v)) no();
      this.once('s'); this.sig = v; return;
    case 'exp':
      this.once('exp'); this.ex = uint(v, 0, 4294967295); return;
  }
  no();
};
// imgix's crop= list (src/spec/dialects/imgix.rs): a focal point wins, then g_auto, then the compass.
P.crop = function (tok, v) {
  var s = [1, 1], c = 0, a = 0, f = 0, fc = 0;
  v.split(',').forEach(function (w) {
    var i = ['left', 'right', 'top', 'bottom'].indexOf(w), ax = i >> 1;
    if (i >= 0) { if (s[ax] !== 1 && s[ax] !== (i & 1) * 2) no(); s[ax] = (i & 1) * 2; c = 1; }
    else if (w === 'entropy' || w === 'edges') a = 1;
    else if (w === 'focalpoint') f = 1;
    else if (w === 'faces') fc = 1;
    else no();
  });
  if (fc && !(c || a || f)) no();
  this.focal = f;
  this.set('g', tok, a && !f ? 'g_auto' : f || (s[0] === 1 && s[1] === 1) ? '' : 'g_' + COMPASS[s[0] + 3 * s[1]]);
};
// A fraction 0 to 1 in ten-thousandths, rounded half up.
function unit(v) {
  var n = fixed(v, 12);
  return n === null || n > 1e12 ? no() : Math.floor((n + 5e7) / 1e8);
}
// One query parameter; false when the function does not know its name (it is then forwarded).
P.query = function (name, v) {
  var tok = name + '=' + v;
  if (name === 'gray' || name === 'grayscale') {
    if (v === '' || v === '1' || v === 'true') this.set('gray', tok, 'gray');
    else if (v === '0' || v === 'false') this.set('gray', tok, '');
    else no();
  } else if (name === 'sharpen') this.sharpen(tok, v === '' ? null : v);
  else if (name === 'rot') {
    if (v === '0') this.once('rot');
    else this.named('a', v === '90' || v === '180' || v === '270' ? v : no(), tok);
  } else if (name === 'flip') {
    if (v !== 'h' && v !== 'v' && v !== 'hv' && v !== 'vh') no();
    if (v.indexOf('h') >= 0) this.set('hflip', tok, 'a_hflip');
    if (v.indexOf('v') >= 0) this.set('vflip', tok, 'a_vflip');
  } else if (name === 'o') this.opts(tok, v);
  else if (name === 'rect') this.named('rect', v.replace(/,/g, ':'), tok);
  else if (name === 'ch') {
    this.once('ch');
    v.split(',').forEach(function (h) {
      h = h.trim().toLowerCase();
      if (h === 'width') this.chw = true;
      if (h === 'dpr') this.chd = true;
    }, this);
  } else if (name === 'fit') this.named('c', QFIT[v] || v, tok);
  else if (name === 'f' || name === 'fm' || name === 'format') this.named('f', QFM[v] || v, tok);
  else if (name === 'crop') this.crop(tok, v);
  else if (name === 'fp-x' || name === 'fp-y') { this.once(name); this[name] = unit(v); }
  else if (name === 'fp-z') { this.once(name); if (fixed(v, 4) !== 10000) no(); }
  else if (name === 'auto') {
    this.once('auto');
    v.split(',').forEach(function (w) { if (w === 'format') this.af = 1; else if (w === 'compress') this.ac = 1; else no(); }, this);
  } else if (name === 'blur' && v === '0') this.once('blur');
  else if ((name in QN)) this.named(QN[name], v, tok);
  else return false;
  return true;
};

// The key rules of src/spec/key.rs: length, no leading /, backslash, control character, empty,
// . or .. segment, nor the reserved _/.
function validKey(k) {
  var bad = !k || encodeURIComponent(k).replace(/%[0-9A-F]{2}/g, 'x').length > 1024 || k.charAt(0) === '/' ||
    k.indexOf('\\') >= 0 || /[\u0000-\u001f\u007f-\u009f]/.test(k) || k === '_' || k.indexOf('_/') === 0 ||
    k.split('/').some(function (s) { return s === '' || s === '.' || s === '..'; });
  return bad ? no() : k;
}

function accepts(accept, type) {
  var items = (accept || '').split(','), i, p, j, ok;
  for (i = 0; i < items.length; i++) {
    p = items[i].split(';');
    if (p[0].trim().toLowerCase() !== type) continue;
    ok = true;
    for (j = 1; j < p.length; j++) {
      var q = /^q=(.*)$/.exec(p[j].trim());
      if (q && q[1] !== '' && !isNaN(Number(q[1])) && Number(q[1]) <= 0) ok = false;
    }
    if (ok) return true;
  }
  return false;
}

// The origin form for a raw path, query parameters ([name, value] pairs, still encoded), Accept
// and the client hints ({dpr, width}: Sec-CH-DPR else DPR, Sec-CH-Width else Width).
function originForm(path, params, accept, hints) {
  hints = hints || {};
  var rest = path.charAt(0) === '/' ? path.slice(1) : path, acc = new Acc(), raw = rest, i = rest.indexOf('/');
  if (i >= 0) {
    var first = rest.slice(0, i);
    if (first === '-') raw = rest.slice(i + 1);
    else {
      var seg = decode(first), toks = seg.split(','), all = seg !== '';
      for (var j = 0; all && j < toks.length; j++) {
        var u = toks[j].indexOf('_');
        all = NAMES.indexOf(u < 0 ? toks[j] : toks[j].slice(0, u)) >= 0;
      }
      if (all) { for (j = 0; j < toks.length; j++) acc.path(toks[j]); raw = rest.slice(i + 1); }
    }
  }
  var key = validKey(decode(raw)), extra = [];
  for (i = 0; i < params.length; i++) {
    if (!acc.query(decode(params[i][0].replace(/\+/g, ' ')), decode(params[i][1].replace(/\+/g, ' ')))) extra.push(params[i]);
  }
  var t = acc.t, list = [], k, st;
  // imgix's crop=focalpoint with fp-x, fp-y (default 0.5), auto=format where no format is named and
  // auto=compress where no quality is.
  if (acc.focal) {
    var fx = acc['fp-x'] === undefined ? 5000 : acc['fp-x'], fy = acc['fp-y'] === undefined ? 5000 : acc['fp-y'];
    if (fx !== 5000 || fy !== 5000) t.g = 'g_' + dec(fx, 4) + 'x' + dec(fy, 4);
  }
  if (acc.af && !t.f) t.f = 'f_auto';
  if (acc.ac && !t.q) t.q = 'q_auto';
  // imgix's ch=Width,DPR: w and dpr become w_auto:w and dpr_auto:dpr.
  if (acc.chw && !acc.aw) { acc.aw = { g: t.w ? Number(t.w.slice(2)) : null, h: null }; t.w = autoToken('w', acc.aw); }
  if (acc.chd && !acc.adpr) {
    acc.adpr = { g: acc.dpr && acc.dpr !== 100 ? acc.dpr : null, h: null };
    t.dpr = autoToken('dpr', acc.adpr);
  }
  // The hints fold into what is still unresolved, the dpr first (a width's cap is times the dpr).
  if (acc.adpr && acc.adpr.h === null && (st = dprStep(hints.dpr)) !== null) {
    acc.adpr.h = st; acc.dpr = st; t.dpr = autoToken('dpr', acc.adpr);
  }
  if (acc.aw && acc.aw.h === null && (st = widthStep(hints.width)) !== null) {
    var cap = acc.aw.g === null ? MAX_SIDE : Math.floor((2 * acc.aw.g * (acc.dpr || 100) + 100) / 200);
    acc.aw.h = Math.min(st, cap, MAX_SIDE); t.w = autoToken('w', acc.aw);
  }
  if (t.t) for (k in acc.d) t[k] = acc.d[k];
  for (k in t) list.push(t[k]);
  var uri = (misread(key) ? '/-/' : '/') + enc(key);
  if (!list.length) return { uri: uri, qs: extra };
  var dpr = acc.dpr || 100;
  ['w', 'h'].forEach(function (s) {
    var a = s === 'w' ? acc.aw : null, n = a ? (a.h !== null ? a.h : a.g || 0) : t[s] ? Number(t[s].slice(2)) : 0;
    var size = a && a.h !== null ? n : Math.floor((2 * n * dpr + 100) / 200);
    if (size > MAX_SIDE) no();
  });
  if (!t.t && (t.x || t.y) && t.c !== 'c_crop') no();
  // Resolved, but marked as f_auto's choice: an animation answers animated WebP to an AVIF client.
  if (t.f === 'f_auto') t.f = accepts(accept, 'image/avif') ? 'f_auto-avif' : accepts(accept, 'image/webp') ? 'f_auto-webp' : 'f_auto';
  list = [];
  for (k in t) list.push(t[k]);
  list.sort();
  var qs = [['o', list.join(',')]];
  if (acc.sig !== null) qs.push(['s', acc.sig]);
  if (acc.ex !== null) qs.push(['exp', '' + acc.ex]);
  return { uri: uri, qs: qs.concat(extra) };
}

function handler(event) {
  var req = event.request, qs = req.querystring || {}, params = [], name, i;
  if (req.uri === '/_' || req.uri.indexOf('/_/') === 0 || HANDLER.test(req.uri)) return req;
  for (name in qs) {
    var vals = qs[name].multiValue ? qs[name].multiValue : [qs[name]];
    for (i = 0; i < vals.length; i++) params.push([name, vals[i].value]);
  }
  var h = req.headers, accept = h.accept ? h.accept.value : '';
  var hint = function (a, b) { return h[a] ? h[a].value : h[b] ? h[b].value : undefined; };
  var hints = { dpr: hint('sec-ch-dpr', 'dpr'), width: hint('sec-ch-width', 'width') };
  try {
    var out = originForm(req.uri, params, accept, hints), q = {};
    out.qs.forEach(function (p) {
      var v = { value: p[1] }, o = q[p[0]];
      if (!o) q[p[0]] = v;
      else (o.multiValue = o.multiValue || [{ value: o.value }]).push(v);
    });
    req.uri = out.uri;
    req.querystring = q;
  } catch (e) {
    // Not rewritten (NO, or anything unforeseen): the origin reads the URL as it came.
  }
  return req;
}
