#!/usr/bin/python3
# proto-check.py - checks on t/milterclient output for t/proto/run-*.sh.
#
# Run with Debian's /usr/bin/python3: authres is the Debian package
# python3-authres.  OUT is the action listing t/milterclient prints
# ("msg=N insheader idx=I name=NAME value=VALUE", "msg=N verdict=...").
#
#   proto-check.py ar OUT AUTHSERV_ID [--msgs N] [EXPECT...]
#       Every message of OUT (N of them with --msgs) must have exactly one
#       Authentication-Results field inserted, at index 0, and a verdict.
#       Its value must be a well-formed folded field (no CR, no NUL, every
#       LF followed by SP or TAB), parse with python3-authres both strictly
#       and with the plain parser (they must agree), carry AUTHSERV_ID, and
#       its results must be EXPECT, in order.  An EXPECT is
#       "method=result" then "|"-separated items: "ptype.name=value",
#       "ptype.name=" (absent), "reason~TEXT" (contains), "reason=TEXT".
#       "*N" as the only EXPECT asks for N results, whatever they are.
#       Prints one line per message: msg=N and the results.
#   proto-check.py sigs OUT
#       One line per inserted DKIM-Signature: msg=N d=.. s=.. a=.. bh=..
#   proto-check.py value OUT MSG NAME
#       The unescaped value of the first inserted NAME of message MSG.
#
# Exit status: 0 checks passed, 1 a check failed, 2 bad usage.
import re
import sys
import os
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from archeck import describe, match, prop  # noqa: E402

LINE = re.compile(r'^msg=(\d+) (\S+)(.*)$')


def unescape(s):
    """Undo t/milterclient's escaping: \\r \\n \\t \\\\ \\xHH."""
    out = bytearray()
    i = 0
    b = s.encode('utf-8', 'surrogateescape')
    while i < len(b):
        c = b[i]
        if c == 0x5c and i + 1 < len(b):
            n = b[i + 1]
            if n == ord('r'):
                out += b'\r'
            elif n == ord('n'):
                out += b'\n'
            elif n == ord('t'):
                out += b'\t'
            elif n == ord('\\'):
                out += b'\\'
            elif n == ord('x') and i + 3 < len(b):
                out.append(int(b[i + 2:i + 4], 16))
                i += 2
            else:
                out += bytes([c, n])
            i += 2
            continue
        out.append(c)
        i += 1
    return bytes(out)


def parse_out(path):
    """{msg: [(action, rest)]} in order of appearance."""
    msgs = {}
    with open(path, 'r', encoding='utf-8', errors='surrogateescape') as fh:
        for line in fh:
            m = LINE.match(line.rstrip('\n'))
            if m:
                msgs.setdefault(int(m.group(1)), []).append(
                    (m.group(2), m.group(3).lstrip(' ')))
    return msgs


def fields(rest):
    """insheader/chgheader fields: idx, name, value (value runs to the end)."""
    m = re.match(r'(?:idx=(\d+) )?name=(\S*) value=(.*)$', rest)
    if not m:
        return None
    return (int(m.group(1)) if m.group(1) else None, m.group(2),
            unescape(m.group(3)))


def inserted(actions, name):
    out = []
    for act, rest in actions:
        if act == 'insheader':
            f = fields(rest)
            if f and f[1].lower() == name.lower():
                out.append(f)
    return out


def check_ar_value(raw, authserv_id, expects):
    import authres
    import authres.core
    errs = []
    if b'\r' in raw or b'\0' in raw:
        errs.append('CR or NUL in the field value')
    for m in re.finditer(rb'\n', raw):
        nxt = raw[m.end():m.end() + 1]
        if nxt not in (b' ', b'\t'):
            errs.append('LF not followed by white space (a new header line '
                        'could be injected) at offset %d' % m.start())
            break
    try:
        value = raw.decode('utf-8')
    except UnicodeDecodeError:
        return errs + ['value is not UTF-8: %r' % raw[:200]], ''
    try:
        strict = authres.core.AuthenticationResultsHeader(
            authres.all_features(), strict=True)
        strict._parse_text = value.rstrip('\r\n\t ')
        strict._parse()
    except Exception as e:
        return errs + ['python3-authres (strict) cannot parse %r: %s'
                       % (value, e)], ''
    try:
        plain = authres.AuthenticationResultsHeader.parse(
            'Authentication-Results: ' + value)
    except Exception as e:
        return errs + ['plain parse fails on %r: %s' % (value, e)], ''
    if strict.authserv_id != authserv_id.lower():
        errs.append('authserv-id %r' % strict.authserv_id)
    if [describe(r) for r in plain.results] != \
            [describe(r) for r in strict.results]:
        errs.append('plain and strict parses differ')
    got = strict.results
    if len(expects) == 1 and expects[0].startswith('*'):
        if len(got) != int(expects[0][1:]):
            errs.append('%d results, expected %s' % (len(got), expects[0][1:]))
    elif expects:
        if len(got) != len(expects):
            errs.append('%d results, expected %d' % (len(got), len(expects)))
        for i, (res, exp) in enumerate(zip(got, expects)):
            errs += ['result %d (%s): %s' % (i + 1, describe(res), e)
                     for e in match(res, exp)]
    return errs, '; '.join(describe(r) for r in got)


def cmd_ar(out, authserv_id, args):
    nmsgs = None
    if args[:1] == ['--msgs']:
        nmsgs = int(args[1])
        args = args[2:]
    msgs = parse_out(out)
    errs = []
    if nmsgs is not None and sorted(msgs) != list(range(1, nmsgs + 1)):
        errs.append('messages %s, expected 1..%d' % (sorted(msgs), nmsgs))
    if not msgs:
        errs.append('no message in the output')
    for n in sorted(msgs):
        acts = msgs[n]
        ars = inserted(acts, 'Authentication-Results')
        if not any(a == 'verdict' or a.startswith('verdict=') for a, _ in acts):
            errs.append('msg=%d: no verdict' % n)
        if len(ars) != 1:
            errs.append('msg=%d: %d Authentication-Results inserted, expected 1'
                        % (n, len(ars)))
            continue
        if ars[0][0] != 0:
            errs.append('msg=%d: A-R inserted at index %s, expected 0'
                        % (n, ars[0][0]))
        e, desc = check_ar_value(ars[0][2], authserv_id, args)
        errs += ['msg=%d: %s' % (n, x) for x in e]
        print('msg=%d %s' % (n, desc))
    for e in errs:
        print('ERROR ' + e)
    return 1 if errs else 0


def cmd_sigs(out):
    for n, acts in sorted(parse_out(out).items()):
        for _, _, v in inserted(acts, 'DKIM-Signature'):
            tags = {}
            for part in re.sub(rb'\s+', b'', v).split(b';'):
                k, _, val = part.partition(b'=')
                tags[k.decode()] = val.decode('utf-8', 'replace')
            print('msg=%d d=%s s=%s a=%s bh=%s' % (
                n, tags.get('d', ''), tags.get('s', ''), tags.get('a', ''),
                tags.get('bh', '')))
    return 0


def cmd_value(out, msg, name):
    found = inserted(parse_out(out).get(int(msg), []), name)
    if not found:
        return 1
    sys.stdout.buffer.write(found[0][2] + b'\n')
    return 0


def main(argv):
    if len(argv) >= 4 and argv[1] == 'ar':
        return cmd_ar(argv[2], argv[3], argv[4:])
    if len(argv) == 3 and argv[1] == 'sigs':
        return cmd_sigs(argv[2])
    if len(argv) == 5 and argv[1] == 'value':
        return cmd_value(argv[2], argv[3], argv[4])
    sys.stderr.write('usage: see the comment at the top of proto-check.py\n')
    return 2


if __name__ == '__main__':
    sys.exit(main(sys.argv))
