#!/usr/bin/python3
# pydkim.py - drive python3-dkim (dkimpy) for t/interop/run-interop.sh.
#
# Run with Debian's /usr/bin/python3 (the dkim and dns modules are Debian
# packages).  DNS goes to the test server only: dnspython's resolver is
# built with configure=False (no /etc/resolv.conf) and pointed at
# 127.0.0.1:PORT.
#
#   pydkim.py verify PORT FILE...
#       Verify every DKIM-Signature of each FILE with dkim.DKIM.verify(idx,
#       dnsfunc=...).  One line per signature:
#       FILE<TAB>INDEX<TAB>pass|fail<TAB>detail
#   pydkim.py dkimverify PORT [ARGS...] <MESSAGE
#       Run the real /usr/bin/dkimverify program (its console entry point)
#       with dnspython's default resolver replaced by one aimed at the test
#       server; its output and exit status are passed through.
#   pydkim.py sign <JOBS
#       Each job line: KEYFILE DOMAIN SELECTOR ALG HCANON/BCANON IN OUT.
#       Signs IN with dkim.sign (the library call behind /usr/bin/dkimsign)
#       and writes the signature plus IN to OUT.  KEYFILE is a PKCS#1 PEM for
#       rsa-sha256 and the base64 32-byte seed for ed25519-sha256 (the forms
#       dkimpy reads).  Prints "OUT<TAB>ok" or "OUT<TAB>error<TAB>why".
#
# Exit status: 0, or 2 on bad usage.
import sys

import dkim
import dns.exception
import dns.rdatatype
import dns.resolver


def make_resolver(port):
    r = dns.resolver.Resolver(configure=False)
    r.nameservers = ['127.0.0.1']
    r.port = port
    r.timeout = r.lifetime = 5
    return r


def dnsfunc_for(resolver):
    def get_txt(name, timeout=5):
        """dkimpy's dnsfunc: the TXT strings of name joined, or None."""
        try:
            qname = name.decode('ascii') if isinstance(name, bytes) else name
            ans = resolver.resolve(qname, dns.rdatatype.TXT,
                                   raise_on_no_answer=False, lifetime=timeout)
        except (dns.resolver.NXDOMAIN, dns.resolver.NoNameservers):
            return None
        except dns.exception.Timeout as e:
            raise dkim.DnsTimeoutError(str(e))
        for rrset in ans.response.answer:
            if rrset.rdtype == dns.rdatatype.TXT:
                return b''.join(list(rrset.items)[0].strings)
        return None
    return get_txt


def cmd_verify(port, files):
    get_txt = dnsfunc_for(make_resolver(port))
    for f in files:
        with open(f, 'rb') as fh:
            msg = fh.read()
        d = dkim.DKIM(msg, minkey=1024)
        n = sum(1 for (name, _) in d.headers if name.lower() == b'dkim-signature')
        if n == 0:
            print('%s\t-\tnone\tno DKIM-Signature' % f)
        for i in range(n):
            try:
                ok = d.verify(idx=i, dnsfunc=get_txt)
                detail = 'verified' if ok else 'signature did not verify'
            except dkim.DKIMException as e:
                ok, detail = False, '%s: %s' % (type(e).__name__, e)
            print('%s\t%d\t%s\t%s' % (f, i, 'pass' if ok else 'fail',
                                      detail.replace('\n', ' ')))
    return 0


def cmd_dkimverify(port, args):
    import runpy
    dns.resolver.default_resolver = make_resolver(port)
    sys.argv = ['/usr/bin/dkimverify'] + args
    runpy.run_path('/usr/bin/dkimverify', run_name='__main__')
    return 0


def cmd_sign():
    for line in sys.stdin:
        parts = line.split()
        if not parts:
            continue
        keyfile, domain, selector, alg, canon, src, out = parts
        hc, bc = canon.split('/')
        try:
            with open(src, 'rb') as fh:
                msg = fh.read()
            with open(keyfile, 'rb') as fh:
                key = fh.read().strip()
            sig = dkim.sign(msg, selector.encode(), domain.encode(), key,
                            canonicalize=(hc.encode(), bc.encode()),
                            signature_algorithm=alg.encode(),
                            linesep=dkim.util.get_linesep(msg))
            with open(out, 'wb') as fh:
                fh.write(sig + msg)
            print('%s\tok' % out)
        except Exception as e:      # report, the caller counts it as a failure
            print('%s\terror\t%s: %s' % (out, type(e).__name__, e))
    return 0


def main(argv):
    if len(argv) >= 3 and argv[1] == 'verify':
        return cmd_verify(int(argv[2]), argv[3:])
    if len(argv) >= 3 and argv[1] == 'dkimverify':
        return cmd_dkimverify(int(argv[2]), argv[3:])
    if len(argv) == 2 and argv[1] == 'sign':
        return cmd_sign()
    sys.stderr.write('usage: pydkim.py verify PORT FILE... | dkimverify PORT [ARGS] | sign <JOBS\n')
    return 2


if __name__ == '__main__':
    sys.exit(main(sys.argv))
