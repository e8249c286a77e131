#!/usr/bin/env python3
"""Adds new inputs to canonical.json, with their expected origin form from `pixflow canonical`.

usage: tests/vectors/add.py INPUTS.txt   (one `URL<TAB>Accept[<TAB>name: value<TAB>…]` a line;
Accept may be empty; the further fields are client hint headers, names in lower case)

Existing vectors are never rewritten: a vector's expectation changes only by editing the file, and
every new expectation must be read before it is committed. Both the Rust tests (tests/it/vectors.rs)
and the CloudFront Function's tests (cdk/test/function.test.ts) check every vector."""
import json, os, subprocess, sys

here = os.path.dirname(os.path.abspath(__file__))
path = os.path.join(here, 'canonical.json')
binary = os.path.join(here, '..', '..', 'target', 'debug', 'pixflow')
vectors = json.load(open(path)) if os.path.exists(path) else []
def ident(url, accept, headers):
    return (url, accept, json.dumps(headers, sort_keys=True))


known = {ident(v['url'], v.get('accept', ''), v.get('headers', {})) for v in vectors}
for line in open(sys.argv[1], encoding='utf-8'):
    if not line.strip() or line.startswith('#'):
        continue
    url, accept, *rest = line.rstrip('\n').split('\t') + ['']
    headers = dict(tuple(map(str.strip, h.split(':', 1))) for h in rest if h)
    if ident(url, accept, headers) in known:
        continue
    args = [binary, 'canonical', url, '--accept', accept]
    for name, value in headers.items():
        args += ['--header', f'{name}: {value}']
    p = subprocess.run(args, capture_output=True, text=True, env=dict(os.environ, RUST_LOG='off'))
    v = {'url': url}
    if accept:
        v['accept'] = accept
    if headers:
        v['headers'] = headers
    if p.returncode == 0:
        v['origin'] = p.stdout.strip()
    else:
        v['error'] = p.stderr.split('400 ', 1)[1].split(':', 1)[0]
    vectors.append(v)
    known.add(ident(url, accept, headers))
json.dump(vectors, open(path, 'w', encoding='utf-8'), indent=2, ensure_ascii=False, sort_keys=True)
open(path, 'a').write('\n')
print(f'{len(vectors)} vectors')
