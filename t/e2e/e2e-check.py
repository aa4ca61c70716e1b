#!/usr/bin/python3
# e2e-check.py - message checks for t/e2e/run-postfix.sh.
#
# Run with Debian's /usr/bin/python3: the dkim, dns and authres modules are
# the Debian packages python3-dkim, python3-dnspython and python3-authres.
# DNS goes to the test server only (dnspython built without resolv.conf).
#
#   e2e-check.py strip DUMP OUT
#       Turn one smtp-sink dump file (-d) into the message as Postfix sent
#       it: drop the X-Client-Addr ... X-Rcpt-Args lines and the Received
#       field smtp-sink puts in front, write OUT with CRLF line ends.
#   e2e-check.py session PORT SENDER RCPT FILE...
#       One SMTP session to 127.0.0.1:PORT (smtplib): a transaction aborted
#       with RSET first, then each FILE as its own transaction.  Prints
#       FILE<TAB>QUEUE-ID per message ("-" and the reply when refused).
#   e2e-check.py dkimpy PORT FILE...
#       Verify every DKIM-Signature of each FILE with dkim.DKIM.verify; one
#       line per signature: FILE<TAB>INDEX<TAB>d<TAB>s<TAB>a<TAB>pass|fail
#       <TAB>detail.
#   e2e-check.py ar FILE AUTHSERV_ID [--keep ID]... [--top] EXPECT...
#       Check the Authentication-Results fields of FILE.  Exactly one field
#       claims AUTHSERV_ID (ours; with --top it must be the first header
#       field); it must parse with python3-authres, strictly (no property
#       skipped) and with the package's plain AuthenticationResultsHeader.
#       parse (both must agree), and its results must be EXPECT, in order.
#       Each --keep ID names another authserv-id whose field must still be
#       there (exactly one).  An EXPECT is "method=result" followed by
#       "|"-separated items: "ptype.name=value" (property equals),
#       "ptype.name=" (property absent), "reason~TEXT" (reason contains
#       TEXT), "reason=TEXT" (reason equals TEXT).  Prints the parsed results
#       on success, what differs on failure (exit 1).
#   e2e-check.py arbatch AUTHSERV_ID BATCH
#       Many "ar ... --top" checks in one run: each BATCH line is
#       NAME<TAB>FILE<TAB>KEEP-ID or empty<TAB>EXPECTs joined by \x1f; prints
#       NAME<TAB>ok<TAB>results or NAME<TAB>fail<TAB>what differs per line.
#   e2e-check.py arvalue FILE AUTHSERV_ID EXPECT...
#       The same for a file holding one Authentication-Results field (the
#       output of "dkimctl verify").
#
# Exit status: 0 checks passed, 1 a check failed, 2 bad usage.
import sys
import os
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from archeck import describe, match, prop  # noqa: E402

authres = None


def load_authres():
    """Import python3-authres on first use (strip need not pay for it)."""
    global authres
    if authres is None:
        import authres as mod
        import authres.core
        authres = mod


def read(path):
    with open(path, 'rb') as fh:
        return fh.read()


def split_header(msg):
    """The header fields of msg (bytes, any line ends) unfolded, in order."""
    text = msg.replace(b'\r\n', b'\n').decode('utf-8', 'replace')
    head = text.split('\n\n', 1)[0]
    fields = []
    for line in head.split('\n'):
        if line[:1] in (' ', '\t') and fields:
            fields[-1] += '\r\n' + line
        elif line:
            fields.append(line)
    return fields


def unfold(field):
    return field.replace('\r\n', '')


def cmd_strip(dump, out):
    lines = read(dump).replace(b'\r\n', b'\n').split(b'\n')
    i = 0
    while i < len(lines) and lines[i].split(b':', 1)[0] in (
            b'X-Client-Addr', b'X-Client-Proto', b'X-Helo-Args',
            b'X-Mail-Args', b'X-Rcpt-Args'):
        i += 1
    # smtp-sink's three-line Received field.
    if i < len(lines) and lines[i].startswith(b'Received:') and \
            i + 1 < len(lines) and b'(smtp-sink)' in lines[i + 1]:
        i += 1
        while i < len(lines) and lines[i][:1] in (b' ', b'\t'):
            i += 1
    body = lines[i:]
    # split() leaves '' after the last line end, and smtp-sink appends one
    # empty line of its own after the message: drop both.
    for _ in range(2):
        if body and body[-1] == b'':
            body.pop()
    with open(out, 'wb') as fh:
        fh.write(b''.join(l + b'\r\n' for l in body))
    return 0


def cmd_session(port, sender, rcpt, files):
    import re
    import smtplib
    s = smtplib.SMTP('127.0.0.1', int(port), local_hostname='client.example',
                     timeout=60)
    s.ehlo()
    s.mail(sender)
    s.rset()
    for f in files:
        s.mail(sender)
        s.rcpt(rcpt)
        code, resp = s.data(read(f))
        m = re.search(rb'queued as ([0-9A-Za-z]+)', resp)
        print('%s\t%s' % (f, m.group(1).decode() if code == 250 and m else
                          '-\t%d %s' % (code, resp.decode('utf-8', 'replace'))))
    s.quit()
    return 0


def cmd_dkimpy(port, paths):
    import dkim
    import dns.exception
    import dns.rdatatype
    import dns.resolver

    r = dns.resolver.Resolver(configure=False)
    r.nameservers = ['127.0.0.1']
    r.port = int(port)
    r.timeout = r.lifetime = 5

    def get_txt(name, timeout=5):
        try:
            qname = name.decode('ascii') if isinstance(name, bytes) else name
            ans = r.resolve(qname, dns.rdatatype.TXT, raise_on_no_answer=False,
                            lifetime=timeout)
        except (dns.resolver.NXDOMAIN, dns.resolver.NoNameservers):
            return None
        except dns.exception.Timeout as e:
            raise dkim.DnsTimeoutError(str(e))
        for rrset in ans.response.answer:
            if rrset.rdtype == dns.rdatatype.TXT:
                return b''.join(list(rrset.items)[0].strings)
        return None

    for path in paths:
        msg = read(path)
        d = dkim.DKIM(msg, minkey=1024)
        sigs = [v for (n, v) in d.headers if n.lower() == b'dkim-signature']
        for i, v in enumerate(sigs):
            tags = dkim.util.parse_tag_value(v)
            try:
                ok = d.verify(idx=i, dnsfunc=get_txt)
                detail = 'verified' if ok else 'signature did not verify'
            except dkim.DKIMException as e:
                ok, detail = False, '%s: %s' % (type(e).__name__, e)
            print('%s\t%d\t%s\t%s\t%s\t%s\t%s' % (
                path, i, tags.get(b'd', b'').decode(),
                tags.get(b's', b'').decode(), tags.get(b'a', b'').decode(),
                'pass' if ok else 'fail', detail.replace('\n', ' ')))
        if not sigs:
            print('%s\t-\t-\t-\t-\tnone\tno DKIM-Signature' % path)
    return 0


def parse_strict(value):
    """Parse with every property error raised, not skipped."""
    load_authres()
    h = authres.core.AuthenticationResultsHeader(authres.all_features(),
                                                 strict=True)
    h._parse_text = value.rstrip('\r\n\t ')
    h._parse()
    return h


def check_value(value, authserv_id, expects):
    """Parse one A-R value both ways and compare with expects."""
    load_authres()
    errs = []
    try:
        strict = parse_strict(value)
    except Exception as e:
        return ['python3-authres (strict) cannot parse %r: %s' % (value, e)], ''
    try:
        plain = authres.AuthenticationResultsHeader.parse(
            'Authentication-Results: ' + value)
    except Exception as e:
        return ['authres.AuthenticationResultsHeader.parse fails on %r: %s'
                % (value, e)], ''
    if strict.authserv_id != authserv_id.lower():
        errs.append('authserv-id %r' % strict.authserv_id)
    if [describe(r) for r in plain.results] != \
            [describe(r) for r in strict.results]:
        errs.append('plain and strict parses differ: %s / %s' % (
            [describe(r) for r in plain.results],
            [describe(r) for r in strict.results]))
    got = strict.results
    if len(got) != len(expects):
        errs.append('%d results, expected %d' % (len(got), len(expects)))
    for i, (res, exp) in enumerate(zip(got, expects)):
        errs += ['result %d (%s): %s' % (i + 1, describe(res), e)
                 for e in match(res, exp)]
    return errs, '; '.join(describe(r) for r in got)


def sig_tags(field):
    """d=, s= and b= (whitespace removed) of a DKIM-Signature field."""
    tags = {}
    for part in unfold(field).split(':', 1)[1].split(';'):
        k, _, v = part.partition('=')
        tags[k.strip()] = ''.join(v.split())
    return tags


def check_header_b(fields, value):
    """Each dkim result's header.d/s/b must name a DKIM-Signature of the
    message, header.b being the start of its b= (RFC 6008)."""
    sigs = [sig_tags(f) for f in fields
            if f.split(':', 1)[0].strip().lower() == 'dkim-signature']
    errs = []
    for res in parse_strict(value).results:
        if res.method != 'dkim' or res.result == 'none':
            continue
        d, s, b = (prop(res, 'header', n) for n in ('d', 's', 'b'))
        if not b:
            errs.append('dkim=%s header.d=%s has no header.b' % (res.result, d))
        elif not [t for t in sigs if t.get('d') == d and t.get('s') == s and
                  t.get('b', '').startswith(b)]:
            errs.append('no DKIM-Signature with d=%s s=%s b=%s...' % (d, s, b))
    return errs


def claims(value, ident):
    v = value.strip()
    if v.startswith('"'):
        v = v[1:]
    return v.lower().startswith(ident.lower()) and \
        v[len(ident):len(ident) + 1] in ('', ';', ' ', '\t', '"', '(', '\r')


def cmd_arbatch(authserv_id, batch):
    """Many ar checks at once: BATCH lines NAME<TAB>FILE<TAB>KEEP<TAB>EXPECTs
    (EXPECTs joined by \\x1f); prints NAME<TAB>ok|fail<TAB>text per line."""
    import io
    import contextlib
    worst = 0
    with open(batch, encoding='utf-8') as fh:
        for line in fh:
            name, path, keep, expects = line.rstrip('\n').split('\t', 3)
            args = ['--top'] + (['--keep', keep] if keep else []) + \
                expects.split('\x1f')
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                try:
                    rc = cmd_ar(path, authserv_id, args)
                except Exception as e:
                    print('%s: %s' % (type(e).__name__, e))
                    rc = 1
            text = out.getvalue().strip().replace('\n', ' ')
            print('%s\t%s\t%s' % (name, 'ok' if rc == 0 else 'fail', text))
            worst = max(worst, rc)
    return worst


def cmd_ar(path, authserv_id, args):
    keep, expects, top = [], [], False
    while args:
        a = args.pop(0)
        if a == '--keep':
            keep.append(args.pop(0))
        elif a == '--top':
            top = True
        else:
            expects.append(a)
    fields = split_header(read(path))
    ars = [(i, f.split(':', 1)[1]) for i, f in enumerate(fields)
           if f.split(':', 1)[0].strip().lower() == 'authentication-results']
    ours = [(i, v) for (i, v) in ars if claims(unfold(v), authserv_id)]
    errs = []
    if len(ours) != 1:
        errs.append('%d Authentication-Results fields claim %s, expected 1: %s'
                    % (len(ours), authserv_id, [unfold(v) for (_, v) in ours]))
    if top and (not ours or ours[0][0] != 0):
        errs.append('our Authentication-Results is not the first field (first: %r)'
                    % (fields[0][:60] if fields else ''))
    for k in keep:
        n = len([1 for (_, v) in ars if claims(unfold(v), k)])
        if n != 1:
            errs.append('%d Authentication-Results fields of %s, expected 1'
                        % (n, k))
    summary = ''
    if ours:
        e, summary = check_value(unfold(ours[0][1]).strip(), authserv_id, expects)
        errs += e
        if not e:
            errs += check_header_b(fields, unfold(ours[0][1]).strip())
    if errs:
        print('; '.join(errs))
        return 1
    print(summary)
    return 0


def cmd_arvalue(path, authserv_id, expects):
    text = read(path).decode('utf-8', 'replace').replace('\r\n', '\n')
    # dkimctl prints "Authentication-Results: ..." folded with LF.
    value = text.split(':', 1)[1].replace('\n', '').strip() if ':' in text else ''
    errs, summary = check_value(value, authserv_id, expects)
    if errs:
        print('; '.join(errs))
        return 1
    print(summary)
    return 0


def main(argv):
    if len(argv) >= 3 and argv[0] == 'strip':
        return cmd_strip(argv[1], argv[2])
    if len(argv) >= 5 and argv[0] == 'session':
        return cmd_session(argv[1], argv[2], argv[3], argv[4:])
    if len(argv) >= 3 and argv[0] == 'dkimpy':
        return cmd_dkimpy(argv[1], argv[2:])
    if len(argv) >= 3 and argv[0] == 'ar':
        return cmd_ar(argv[1], argv[2], list(argv[3:]))
    if len(argv) == 3 and argv[0] == 'arbatch':
        return cmd_arbatch(argv[1], argv[2])
    if len(argv) >= 3 and argv[0] == 'arvalue':
        return cmd_arvalue(argv[1], argv[2], list(argv[3:]))
    sys.stderr.write('usage: e2e-check.py strip|dkimpy|ar|arvalue ...\n')
    return 2


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
