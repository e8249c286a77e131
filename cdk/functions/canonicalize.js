// pixflow viewer-request function (cloudfront-js-2.0): rewrites every accepted URL form into
// the origin form /{key}?o={canonical}[&s=][&exp=], resolves f_auto from Accept, and answers 400
// for what the origin would refuse. Mirrors src/spec/parse.rs; tests/vectors/canonical.json
// holds the cases both must agree on.
var MAX_SIDE = 8192;
var NAMES = ['w','h','c','g','dpr','q','f','gray','e','blur','sharpen','a','bg','x','y','pg','t','s','exp'];
var MODES = {limit:'',"scale-down":'',max:'',fit:'fit',contain:'fit',inside:'fit',clip:'fit',fill:'fill',
  cover:'fill',lfill:'lfill',pad:'pad',lpad:'lpad',scale:'scale',stretch:'scale',squeeze:'scale',crop:'crop'};
var GRAV = {center:'',centre:'',c:'',north:'north',n:'north',south:'south',s:'south',east:'east',e:'east',
  west:'west',w:'west',north_east:'north_east',ne:'north_east',north_west:'north_west',nw:'north_west',
  south_east:'south_east',se:'south_east',south_west:'south_west',sw:'south_west'};
var FMT = {jpeg:'jpeg',jpg:'jpeg',png:'png',webp:'webp',avif:'avif',gif:'gif',auto:'auto',json:'json',
  'auto-avif':'auto-avif','auto-webp':'auto-webp'};
var QN = {w:'w',width:'w',h:'h',height:'h',fit:'c',g:'g',gravity:'g',dpr:'dpr',q:'q',quality:'q',f:'f',
  fm:'f',format:'f',blur:'blur',bg:'bg',x:'x',y:'y',pg:'pg',page:'pg',frame:'pg',preset:'t',s:'s',sig:'s',
  exp:'exp'};

function Fail(code, msg) { this.code = code; this.msg = msg; }
function bad(tok, why) { return new Fail('bad_option', '`' + tok + '`: ' + why); }

// Percent-decodes once, like the percent-encoding crate: a stray % stays literal; bad UTF-8 fails.
function decode(s) {
  try { return decodeURIComponent(s.replace(/%(?![0-9A-Fa-f]{2})/g, '%25')); }
  catch (e) { throw new Fail('bad_key', '`' + s + '`: percent-encoding does not decode to UTF-8'); }
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

// Defaults written explicitly: dropped from the canonical form, unless a preset is named, whose
// value they then override (?preset=thumb&fit=limit).
var DEF = {c:'c_limit', g:'g_center', dpr:'dpr_1', bg:'bg_ffffff'};
function Acc() { this.t = {}; this.d = {}; this.seen = {}; this.sig = null; this.exp = null; }
Acc.prototype.once = function (slot, tok) {
  if (this.seen[slot]) throw new Fail('repeated_option', '`' + tok + '`: this option is given more than once');
  this.seen[slot] = 1;
};
Acc.prototype.set = function (slot, tok, val) {
  this.once(slot, tok);
  if (val !== '') this.t[slot] = val; else if (DEF[slot]) this.d[slot] = DEF[slot];
};
Acc.prototype.path = function (tok) {
  var i = tok.indexOf('_'), n = i < 0 ? tok : tok.slice(0, i), v = i < 0 ? null : tok.slice(i + 1);
  if (v === null) {
    if (n === 'gray') return this.set('gray', tok, 'gray');
    if (n === 'sharpen') return this.set('sharpen', tok, 'sharpen');
    throw new Fail('unknown_option', '`' + tok + '`: unknown option');
  }
  if (n === 'e' && v === 'grayscale') return this.set('gray', tok, 'gray');
  if (n === 'sharpen') return this.sharpen(tok, v);
  if (n === 'o') throw bad(tok, 'options cannot nest: o= is only a query parameter');
  this.named(n, v, tok);
};
Acc.prototype.sharpen = function (tok, v) {
  var s = v === null ? 100 : centi(tok, v, 30, 1000, 'sharpen sigma must be 0.3 to 10');
  this.set('sharpen', tok, s === 100 ? 'sharpen' : 'sharpen_' + dec(s, 2));
};
Acc.prototype.opts = function (tok, v) {
  if (!v) throw bad(tok, 'o= needs options');
  var p = v.split(','), i;
  for (i = 0; i < p.length; i++) this.path(p[i]);
};
Acc.prototype.named = function (n, v, tok) {
  var x, m;
  switch (n) {
    case 'w': case 'h':
      this.set(n, tok, n + '_' + uint(tok, v, 1, MAX_SIDE, (n === 'w' ? 'width' : 'height') + ' must be 1 to ' + MAX_SIDE));
      return;
    case 'c':
      if (!MODES.hasOwnProperty(v)) throw bad(tok, 'unknown resize mode');
      return this.set('c', tok, MODES[v] && 'c_' + MODES[v]);
    case 'g':
      if (v === 'auto') return this.set('g', tok, 'g_auto');
      if (GRAV.hasOwnProperty(v)) return this.set('g', tok, GRAV[v] && 'g_' + GRAV[v]);
      m = v.split('x');
      var gx = m.length === 2 ? fixed(m[0], 4) : null, gy = m.length === 2 ? fixed(m[1], 4) : null;
      if (gx === null || gy === null || gx > 10000 || gy > 10000)
        throw bad(tok, 'gravity must be a compass point or a focal point like 0.25x0.7');
      return this.set('g', tok, gx === 5000 && gy === 5000 ? '' : 'g_' + dec(gx, 4) + 'x' + dec(gy, 4));
    case 'dpr':
      x = centi(tok, v, 100, 400, 'dpr must be 1 to 4, with up to 2 decimals');
      this.dpr = x;
      return this.set('dpr', tok, x === 100 ? '' : 'dpr_' + dec(x, 2));
    case 'q':
      if (v === 'auto') throw new Fail('not_supported', '`' + tok + '`: q_auto is not supported yet');
      return this.set('q', tok, 'q_' + uint(tok, v, 1, 100, 'quality must be 1 to 100'));
    case 'f':
      if (!FMT.hasOwnProperty(v)) throw bad(tok, 'unknown format');
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
    case 'pg':
      return this.set('pg', tok, 'pg_' + uint(tok, v, 1, 100000, 'page must be 1 to 100000'));
    case 't':
      if (!/^[A-Za-z0-9_-]{1,64}$/.test(v)) throw bad(tok, 'preset names are 1-64 of a-z A-Z 0-9 _ -');
      return this.set('t', tok, 't_' + v);
    case 's':
      if (!/^[A-Za-z0-9_-]{1,64}$/.test(v)) throw bad(tok, 'malformed signature');
      this.once('s', tok); this.sig = v; return;
    case 'exp':
      this.once('exp', tok); this.exp = uint(tok, v, 0, 4294967295, 'expiry must be a unix time'); return;
  }
  throw new Fail('unknown_option', '`' + tok + '`: unknown option');
};
Acc.prototype.query = function (name, v) {
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
  // imgix's content-aware crops (a comma list) are g_auto; its other crop values are not read yet.
  if (name === 'crop' && /(^|,)(entropy|edges)(,|$)/.test(v)) return this.named('g', 'auto', tok);
  if (QN.hasOwnProperty(name)) this.named(QN[name], v, tok);
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
  if (why) throw new Fail('bad_key', '`' + k + '`: ' + why);
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

// The origin form for a raw path, query parameters ([name, value] pairs, still encoded) and Accept.
function originForm(path, params, accept) {
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
  var t = acc.t, list = [], k;
  if (t.t) for (k in acc.d) if (acc.d.hasOwnProperty(k)) t[k] = acc.d[k];
  for (k in t) if (t.hasOwnProperty(k)) list.push(t[k]);
  if (!list.length) return { uri: '/' + enc(key) };
  var dpr = acc.dpr || 100;
  ['w', 'h'].forEach(function (s) {
    var n = t[s] ? Number(t[s].slice(2)) : 0, px = Math.floor((2 * n * dpr + 100) / 200);
    if (px > MAX_SIDE) throw new Fail('bad_geometry', '`' + t[s] + '`: the requested size ' + px + ' px is over the ' + MAX_SIDE + ' px limit');
  });
  if (!t.t && (t.x || t.y) && t.c !== 'c_crop') throw bad(t.x ? 'x_' : 'y_', 'x_ and y_ only apply to c_crop');
  // Resolved, but marked as f_auto's choice: an animation answers animated WebP to an AVIF client.
  if (t.f === 'f_auto') t.f = accepts(accept, 'image/avif') ? 'f_auto-avif' : accepts(accept, 'image/webp') ? 'f_auto-webp' : 'f_auto';
  list = [];
  for (k in t) if (t.hasOwnProperty(k)) list.push(t[k]);
  list.sort();
  var qs = { o: list.join(',') };
  if (acc.sig !== null) qs.s = acc.sig;
  if (acc.exp !== null) qs.exp = '' + acc.exp;
  return { uri: '/' + enc(key), querystring: qs };
}

function handler(event) {
  var req = event.request, qs = req.querystring || {}, params = [], name, i;
  if (req.uri === '/_' || req.uri.indexOf('/_/') === 0) return req;
  for (name in qs) {
    if (!qs.hasOwnProperty(name)) continue;
    var vals = qs[name].multiValue ? qs[name].multiValue : [qs[name]];
    for (i = 0; i < vals.length; i++) params.push([name, vals[i].value]);
  }
  var accept = req.headers.accept ? req.headers.accept.value : '';
  try {
    var out = originForm(req.uri, params, accept), q = {};
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
