// pixflow viewer-request function (cloudfront-js-2.0): rewrites every accepted URL form into
// the origin form /{key}?o={canonical}[&s=][&exp=], resolves f_auto from Accept and dpr_auto/w_auto
// from the client hints, and answers 400
// for what the origin would refuse. Mirrors src/spec/parse.rs; tests/vectors/canonical.json
// holds the cases both must agree on.
var MAX_SIDE = 8192;
var NAMES = 'w h c g dpr q f gray e blur sharpen a bg x y pg rect t s exp'.split(' ');
// Name tables, written compactly (the deployed code must stay under 10 KB): `name:value`, or a
// bare `name` that maps to itself.
function table(list) {
  var o = Object.create(null);
  list.split(' ').forEach(function (p) { var kv = p.split(':'); o[kv[0]] = kv.length > 1 ? kv[1] : kv[0]; });
  return o;
}
var MODES = table('limit: scale-down: max: fit contain:fit inside:fit clip:fit fill cover:fill lfill pad lpad scale stretch:scale squeeze:scale crop');
var GRAV = table('center: centre: c: north n:north south s:south east e:east west w:west north_east ne:north_east north_west nw:north_west south_east se:south_east south_west sw:south_west');
var FMT = table('jpeg jpg:jpeg png webp avif gif auto json thumbhash auto-avif auto-webp');
var QN = table('w width:w h height:h fit:c g gravity:g dpr q quality:q f fm:f format:f blur bg x y pg page:pg frame:pg preset:t s sig:s exp');

function Fail(code, msg) { this.code = code; this.msg = msg; }
function fail(code, tok, why) { return new Fail(code, '`' + tok + '`: ' + why); }
function bad(tok, why) { return fail('bad_option', tok, why); }

// Percent-decodes once, like the percent-encoding crate: a stray % stays literal; bad UTF-8 fails.
function decode(s) {
  try { return decodeURIComponent(s.replace(/%(?![0-9A-Fa-f]{2})/g, '%25')); }
  catch (e) { throw fail('bad_key', s, 'percent-encoding does not decode to UTF-8'); }
}
function enc(k) {
  return encodeURIComponent(k).replace(/[!'()*]/g, function (c) {
    return '%' + c.charCodeAt(0).toString(16).toUpperCase();
  }).replace(/%2F/g, '/');
}
function uint(tok, v, min, max, why) {
  if (!/^[0-9]+$/.test(v)) throw bad(tok, why);
  var d = v.replace(/^0+/, '');
  if (d.length > 10) throw bad(tok, why);
  var n = d ? Number(d) : 0;
  if (n < min || n > max) throw bad(tok, why);
  return n;
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
function centi(tok, v, min, max, why) {
  var n = fixed(v, 2);
  if (n === null || n < min || n > max) throw bad(tok, why);
  return n;
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
P.once = function (slot, tok) {
  if (this.seen[slot]) throw fail('repeated_option', tok, 'this option is given more than once');
  this.seen[slot] = 1;
};
P.set = function (slot, tok, val) {
  this.once(slot, tok);
  if (val !== '') this.t[slot] = val; else if (DEF[slot]) this.d[slot] = DEF[slot];
};
P.path = function (tok) {
  var i = tok.indexOf('_'), n = i < 0 ? tok : tok.slice(0, i), v = i < 0 ? null : tok.slice(i + 1);
  if (v === null) {
    if (n === 'gray') return this.set('gray', tok, 'gray');
    if (n === 'sharpen') return this.set('sharpen', tok, 'sharpen');
    throw fail('unknown_option', tok, 'unknown option');
  }
  if (n === 'e' && v === 'grayscale') return this.set('gray', tok, 'gray');
  if (n === 'sharpen') return this.sharpen(tok, v);
  if (n === 'o') throw bad(tok, 'options cannot nest: o= is only a query parameter');
  this.named(n, v, tok);
};
P.sharpen = function (tok, v) {
  var s = v === null ? 100 : centi(tok, v, 30, 1000, 'sharpen sigma must be 0.3 to 10');
  this.set('sharpen', tok, s === 100 ? 'sharpen' : 'sharpen_' + dec(s, 2));
};
P.opts = function (tok, v) {
  if (!v) throw bad(tok, 'o= needs options');
  var p = v.split(','), i;
  for (i = 0; i < p.length; i++) this.path(p[i]);
};
// w_auto[:N][-HINTED] and dpr_auto[:D][-HINTED] (src/spec/options.rs); acc.w / acc.dpr hold them.
P.auto = function (n, v, tok) {
  var w = n === 'w', why = w ? 'w_auto:N takes N 1 to ' + MAX_SIDE : 'dpr_auto takes :D with D 1 to 4, or -1, -1.5, -2 or -3';
  var m = /^auto(?::([^-]+))?(?:-(.+))?$/.exec(v);
  if (!m) throw bad(tok, why);
  var num = function (x, hi) { return x === undefined ? null : w ? uint(tok, x, 1, MAX_SIDE, why) : centi(tok, x, 100, hi, why); };
  var a = { g: num(m[1], 400), h: num(m[2], 300) };
  if (!w) {
    if (a.h !== null && [100, 150, 200, 300].indexOf(a.h) < 0) throw bad(tok, why);
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
      this.set(n, tok, n + '_' + uint(tok, v, 1, MAX_SIDE, (n === 'w' ? 'width' : 'height') + ' must be 1 to ' + MAX_SIDE));
      return;
    case 'c':
      if (!(v in MODES)) throw bad(tok, 'unknown resize mode');
      return this.set('c', tok, MODES[v] && 'c_' + MODES[v]);
    case 'g':
      if (v === 'auto') return this.set('g', tok, 'g_auto');
      if ((v in GRAV)) return this.set('g', tok, GRAV[v] && 'g_' + GRAV[v]);
      m = v.split('x');
      var gx = m.length === 2 ? fixed(m[0], 4) : null, gy = m.length === 2 ? fixed(m[1], 4) : null;
      if (gx === null || gy === null || gx > 10000 || gy > 10000)
        throw bad(tok, 'gravity must be a compass point or a focal point like 0.25x0.7');
      return this.set('g', tok, gx === 5000 && gy === 5000 ? '' : 'g_' + dec(gx, 4) + 'x' + dec(gy, 4));
    case 'dpr':
      if (v.slice(0, 4) === 'auto') return this.auto('dpr', v, tok);
      x = centi(tok, v, 100, 400, 'dpr must be 1 to 4, with up to 2 decimals');
      this.dpr = x;
      return this.set('dpr', tok, x === 100 ? '' : 'dpr_' + dec(x, 2));
    case 'q':
      if (v === 'auto') throw fail('not_supported', tok, 'q_auto is not supported yet');
      return this.set('q', tok, 'q_' + uint(tok, v, 1, 100, 'quality must be 1 to 100'));
    case 'f':
      if (!(v in FMT)) throw bad(tok, 'unknown format');
      return this.set('f', tok, 'f_' + FMT[v]);
    case 'e': throw bad(tok, 'unknown effect (e_grayscale is the only one)');
    case 'blur':
      return this.set('blur', tok, 'blur_' + dec(centi(tok, v, 30, 10000, 'blur sigma must be 0.3 to 100'), 2));
    case 'a':
      if (v === '90' || v === '180' || v === '270') return this.set('rot', tok, 'a_' + v);
      if (v === 'hflip' || v === 'vflip') return this.set(v, tok, 'a_' + v);
      throw bad(tok, 'expected a_90, a_180, a_270, a_hflip or a_vflip');
    case 'bg':
      x = v.charAt(0) === '#' ? v.slice(1) : v;
      if (!/^[0-9A-Fa-f]{6}$/.test(x)) throw bad(tok, 'background must be six hex digits RRGGBB');
      x = x.toLowerCase();
      return this.set('bg', tok, x === 'ffffff' ? '' : 'bg_' + x);
    case 'x': case 'y':
      return this.set(n, tok, n + '_' + uint(tok, v, 0, 1000000, n + ' must be 0 to 1000000'));
    case 'rect':
      m = v.split(':');
      x = 'rect must be X:Y:W:H, whole pixels';
      if (m.length !== 4) throw bad(tok, x);
      return this.set('rect', tok, 'rect_' + m.map(function (p, i) { return uint(tok, p, i >> 1, 1e6, x); }).join(':'));
    case 'pg':
      return this.set('pg', tok, 'pg_' + uint(tok, v, 1, 100000, 'page must be 1 to 100000'));
    case 't':
      if (!/^[A-Za-z0-9_-]{1,64}$/.test(v)) throw bad(tok, 'preset names are 1-64 of a-z A-Z 0-9 _ -');
      return this.set('t', tok, 't_' + v);
    case 's':
      if (!/^[A-Za-z0-9_-]{1,64}$/.test(v)) throw bad(tok, 'malformed signature');
      this.once('s', tok); this.sig = v; return;
    case 'exp':
      this.once('exp', tok); this.ex = uint(tok, v, 0, 4294967295, 'expiry must be a unix time'); return;
  }
  throw fail('unknown_option', tok, 'unknown option');
};
P.query = function (name, v) {
  var tok = name + '=' + v;
  if (name === 'gray' || name === 'grayscale') {
    if (v === '' || v === '1' || v === 'true') return this.set('gray', tok, 'gray');
    if (v === '0' || v === 'false') return this.set('gray', tok, '');
    throw bad(tok, 'expected nothing, 1 or true');
  }
  if (name === 'sharpen') return this.sharpen(tok, v === '' ? null : v);
  if (name === 'rot') {
    if (v === '0') return this.once('rot', tok);
    if (v === '90' || v === '180' || v === '270') return this.named('a', v, tok);
    throw bad(tok, 'rotation must be 0, 90, 180 or 270');
  }
  if (name === 'flip') {
    if (v !== 'h' && v !== 'v' && v !== 'hv' && v !== 'vh') throw bad(tok, 'flip must be h, v or hv');
    if (v.indexOf('h') >= 0) this.set('hflip', tok, 'a_hflip');
    if (v.indexOf('v') >= 0) this.set('vflip', tok, 'a_vflip');
    return;
  }
  if (name === 'o') return this.opts(tok, v);
  if (name === 'rect') return this.named('rect', v.replace(/,/g, ':'), tok);
  if (name === 'ch') {
    this.once('ch', tok);
    v.split(',').forEach(function (h) {
      h = h.trim().toLowerCase();
      if (h === 'width') this.chw = true;
      if (h === 'dpr') this.chd = true;
    }, this);
    return;
  }
  // imgix's content-aware crops (a comma list) are g_auto; its other crop values are not read yet.
  if (name === 'crop' && /(^|,)(entropy|edges)(,|$)/.test(v)) return this.named('g', 'auto', tok);
  if ((name in QN)) this.named(QN[name], v, tok);
};

function validKey(k) {
  var why = !k ? 'the path names no image' : encodeURIComponent(k).replace(/%[0-9A-F]{2}/g, 'x').length > 1024
    ? 'the key is longer than 1024 bytes' : k.charAt(0) === '/' ? 'the key starts with /'
    : k.indexOf('\\') >= 0 ? 'the key contains a backslash'
    : /[\u0000-\u001f\u007f-\u009f]/.test(k) ? 'the key contains a control character' : null;
  var segs = k.split('/'), i;
  for (i = 0; !why && i < segs.length; i++) {
    if (segs[i] === '') why = 'the key has an empty segment';
    else if (segs[i] === '.' || segs[i] === '..') why = 'the key has a . or .. segment';
  }
  if (!why && (k === '_' || k.indexOf('_/') === 0)) why = 'keys under _/ are reserved';
  if (why) throw fail('bad_key', k, why);
  return k;
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
  var key = validKey(decode(raw));
  for (i = 0; i < params.length; i++) {
    acc.query(decode(params[i][0].replace(/\+/g, ' ')), decode(params[i][1].replace(/\+/g, ' ')));
  }
  var t = acc.t, list = [], k, st;
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
  if (!list.length) return { uri: '/' + enc(key) };
  var dpr = acc.dpr || 100;
  ['w', 'h'].forEach(function (s) {
    var a = s === 'w' ? acc.aw : null, n = a ? (a.h !== null ? a.h : a.g || 0) : t[s] ? Number(t[s].slice(2)) : 0;
    var size = a && a.h !== null ? n : Math.floor((2 * n * dpr + 100) / 200);
    if (size > MAX_SIDE) throw new Fail('bad_geometry', '`' + s + '_' + n + '`: the requested size ' + size + ' px is over the ' + MAX_SIDE + ' px limit');
  });
  if (!t.t && (t.x || t.y) && t.c !== 'c_crop') throw bad(t.x ? 'x_' : 'y_', 'x_ and y_ only apply to c_crop');
  // Resolved, but marked as f_auto's choice: an animation answers animated WebP to an AVIF client.
  if (t.f === 'f_auto') t.f = accepts(accept, 'image/avif') ? 'f_auto-avif' : accepts(accept, 'image/webp') ? 'f_auto-webp' : 'f_auto';
  list = [];
  for (k in t) list.push(t[k]);
  list.sort();
  var qs = { o: list.join(',') };
  if (acc.sig !== null) qs.s = acc.sig;
  if (acc.ex !== null) qs.exp = '' + acc.ex;
  return { uri: '/' + enc(key), querystring: qs };
}

function handler(event) {
  var req = event.request, qs = req.querystring || {}, params = [], name, i;
  if (req.uri === '/_' || req.uri.indexOf('/_/') === 0) return req;
  for (name in qs) {
    var vals = qs[name].multiValue ? qs[name].multiValue : [qs[name]];
    for (i = 0; i < vals.length; i++) params.push([name, vals[i].value]);
  }
  var h = req.headers, accept = h.accept ? h.accept.value : '';
  var hint = function (a, b) { return h[a] ? h[a].value : h[b] ? h[b].value : undefined; };
  var hints = { dpr: hint('sec-ch-dpr', 'dpr'), width: hint('sec-ch-width', 'width') };
  try {
    var out = originForm(req.uri, params, accept, hints), q = {};
    req.uri = out.uri;
    for (name in out.querystring || {}) q[name] = { value: out.querystring[name] };
    req.querystring = q;
    return req;
  } catch (e) {
    if (!(e instanceof Fail)) throw e;
    return {
      statusCode: 400, statusDescription: 'Bad Request',
      headers: { 'content-type': { value: 'application/json' }, 'cache-control': { value: 'public, max-age=60' } },
      body: JSON.stringify({ error: e.code, message: e.msg })
    };
  }
}
