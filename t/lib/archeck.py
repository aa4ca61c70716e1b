"""archeck.py - matching parsed Authentication-Results against expectations.

Shared by t/e2e/e2e-check.py and t/proto/proto-check.py. An expectation is
"method=result|ptype.name=value|reason~text|..." ("value" empty: the
property must be absent; "reason=" exact, "reason~" substring).
"""


def describe(res):
    out = '%s=%s' % (res.method, res.result)
    if getattr(res, 'reason', None):
        out += ' reason="%s"' % res.reason
    for p in getattr(res, 'properties', []):
        out += ' %s.%s=%s' % (p.type, p.name, p.value)
    return out


def prop(res, ptype, name):
    for p in res.properties:
        if p.type == ptype and p.name == name:
            return p.value
    return None


def match(res, expect):
    """What differs between a parsed result and one EXPECT, or []."""
    errs = []
    items = expect.split('|')
    method, _, result = items[0].partition('=')
    if res.method != method or res.result != result:
        errs.append('expected %s=%s, got %s=%s' % (method, result, res.method,
                                                  res.result))
    for it in items[1:]:
        if it.startswith('reason~'):
            if it[7:] not in (res.reason or ''):
                errs.append('reason %r lacks %r' % (res.reason, it[7:]))
        elif it.startswith('reason='):
            if (res.reason or '') != it[7:]:
                errs.append('reason %r is not %r' % (res.reason, it[7:]))
        else:
            key, _, want = it.partition('=')
            ptype, _, name = key.partition('.')
            got = prop(res, ptype, name)
            if want == '' and got is not None:
                errs.append('%s=%s should be absent' % (key, got))
            elif want != '' and got != want:
                errs.append('%s is %r, expected %r' % (key, got, want))
    return errs
