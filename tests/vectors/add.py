#!/usr/bin/env python3
"""Adds new inputs to canonical.json, with their expected origin form from `pixflow canonical`.

usage: tests/vectors/add.py INPUTS.txt   (one `URL<TAB>Accept` a line; Accept may be empty)

Existing vectors are never rewritten: a vector's expectation changes only by editing the file, and
every new expectation must be read before it is committed. Both the Rust tests (tests/it/vectors.rs)
and the CloudFront Function's tests (cdk/test/function.test.ts) check every vector."""
import json, os, subprocess, sys

here = os.path.dirname(os.path.abspath(__file__))
path = os.path.join(here, 'canonical.json')
binary = os.path.join(here, '..', '..', 'target', 'debug', 'pixflow')
vectors = json.load(open(path)) if os.path.exists(path) else []
known = {(v['url'], v.get('accept', '')) for v in vectors}
for line in open(sys.argv[1], encoding='utf-8'):
    if not line.strip() or line.startswith('#'):
        continue
    url, _, accept = line.rstrip('\n').partition('\t')
    if (url, accept) in known:
        continue
    p = subprocess.run([binary, 'canonical', url, '--accept', accept], capture_output=True, text=True,
                       env=dict(os.environ, RUST_LOG='off'))
    v = {'url': url}
    if accept:
        v['accept'] = accept
    if p.returncode == 0:
        v['origin'] = p.stdout.strip()
    else:
        v['error'] = p.stderr.split('400 ', 1)[1].split(':', 1)[0]
    vectors.append(v)
    known.add((url, accept))
json.dump(vectors, open(path, 'w', encoding='utf-8'), indent=2, ensure_ascii=False, sort_keys=True)
open(path, 'a').write('\n')
print(f'{len(vectors)} vectors')
