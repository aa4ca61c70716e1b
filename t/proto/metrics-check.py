#!/usr/bin/python3
# metrics-check.py - scrape and compare dkimgate's /metrics for
# t/proto/run-metrics.sh, parsing with prometheus_client's text parser
# (Debian python3-prometheus-client), the one Prometheus itself mirrors.
#
#   metrics-check.py scrape URL FILE
#       GET URL; it must answer 200 with the text format's content type
#       and a body the parser accepts whole, in which every family has
#       HELP and TYPE. The body goes to FILE.
#   metrics-check.py get FILE NAME [LABEL=VALUE...]
#       Print the value of the one sample NAME with exactly those labels
#       (nothing, exit 1, when there is none).
#   metrics-check.py delta BEFORE AFTER EXPECT...
#       Every counter sample and every histogram _count must have moved
#       from BEFORE to AFTER by exactly the amount EXPECT gives it
#       ("NAME{LABEL=VALUE,...}=N" or "NAME=N"), and by 0 when no EXPECT
#       names it; a series EXPECT names must exist.
#   metrics-check.py status URL METHOD
#       Print the HTTP status of METHOD URL.
#   metrics-check.py names SCRAPE FILE...
#       Every dkimgate_* series named in FILEs (alert rules, dashboards)
#       must be in SCRAPE; prints the names checked.
#   metrics-check.py dashboard-rules DASHBOARD.json OUT.yml
#       Write each query of a Grafana dashboard as a recording rule (with
#       $variables replaced) so that promtool can check its PromQL.
#
# Exit status: 0 checks passed, 1 a check failed, 2 bad usage.
import sys
import urllib.error
import urllib.request

from prometheus_client.parser import text_string_to_metric_families


def fetch(url, method='GET'):
    req = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers.get('Content-Type', ''), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get('Content-Type', ''), e.read().decode()


def key(name, labels):
    if not labels:
        return name
    return name + '{' + ','.join('%s=%s' % kv for kv in sorted(labels.items())) + '}'


def samples(text):
    """{series: (family type, value)} of a whole exposition text."""
    out = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out[key(s.name, s.labels)] = (fam.type, s.value)
    return out


def scrape(url, path):
    status, ctype, body = fetch(url)
    if status != 200:
        sys.exit('GET %s: status %d' % (url, status))
    if not ctype.startswith('text/plain; version=0.0.4'):
        sys.exit('GET %s: content type %r' % (url, ctype))
    fams = list(text_string_to_metric_families(body))
    helps = {ln.split()[2] for ln in body.splitlines() if ln.startswith('# HELP ')}
    types = {ln.split()[2] for ln in body.splitlines() if ln.startswith('# TYPE ')}
    if helps != types:
        sys.exit('HELP and TYPE differ for %s' % sorted(helps ^ types))
    for f in fams:
        if f.samples and f.type == 'unknown':
            sys.exit('family %s has no TYPE' % f.name)
    with open(path, 'w') as fp:
        fp.write(body)


def parse_expect(e):
    series, _, n = e.rpartition('=')
    if '{' in series:
        name, rest = series.split('{', 1)
        labels = dict(kv.split('=', 1) for kv in rest.rstrip('}').split(','))
        series = key(name, labels)
    return series, float(n)


def delta(before, after, expects):
    with open(before) as fp:
        b = samples(fp.read())
    with open(after) as fp:
        a = samples(fp.read())
    want = dict(parse_expect(e) for e in expects)
    bad = 0
    for k in want:
        if k not in a:
            print('missing series %s' % k)
            bad = 1
    for k, (typ, v) in sorted(a.items()):
        if not (typ == 'counter' or (typ == 'histogram' and k.split('{')[0].endswith('_count'))):
            continue
        d = v - b.get(k, (typ, 0.0))[1]
        if d != want.get(k, 0.0):
            print('%s moved by %g, expected %g' % (k, d, want.get(k, 0.0)))
            bad = 1
    return bad


def names(scrape_path, files):
    import re
    with open(scrape_path) as fp:
        have = {k.split('{')[0] for k in samples(fp.read())}
    bad = 0
    for path in files:
        with open(path) as fp:
            for n in sorted(set(re.findall(r'\bdkimgate_[a-z_]+', fp.read()))):
                print('%s: %s' % (path, n))
                if n not in have:
                    print('%s names %s, which dkimgate does not serve' % (path, n))
                    bad = 1
    return bad


def dashboard_rules(dash_path, out_path):
    import json
    with open(dash_path) as fp:
        dash = json.load(fp)
    exprs = [t['expr'] for p in dash['panels'] for t in p.get('targets', [])]
    with open(out_path, 'w') as fp:
        fp.write('groups:\n  - name: dashboard\n    rules:\n')
        for i, e in enumerate(exprs):
            e = e.replace('$instance', '.*')
            fp.write('      - record: dashboard_query_%d\n        expr: %s\n' % (i, json.dumps(e)))
    print('%d queries' % len(exprs))
    return 0 if exprs else 1


def main(argv):
    if len(argv) == 4 and argv[1] == 'scrape':
        scrape(argv[2], argv[3])
        return 0
    if len(argv) >= 4 and argv[1] == 'get':
        with open(argv[2]) as fp:
            s = samples(fp.read())
        labels = dict(a.split('=', 1) for a in argv[4:])
        k = key(argv[3], labels)
        if k not in s:
            return 1
        v = s[k][1]
        print(int(v) if v == int(v) else v)
        return 0
    if len(argv) >= 4 and argv[1] == 'delta':
        return delta(argv[2], argv[3], argv[4:])
    if len(argv) == 4 and argv[1] == 'status':
        print(fetch(argv[2], argv[3])[0])
        return 0
    if len(argv) >= 4 and argv[1] == 'names':
        return names(argv[2], argv[3:])
    if len(argv) == 4 and argv[1] == 'dashboard-rules':
        return dashboard_rules(argv[2], argv[3])
    print(__doc__ if __doc__ else 'usage: see the comment at the top', file=sys.stderr)
    return 2


if __name__ == '__main__':
    sys.exit(main(sys.argv))
