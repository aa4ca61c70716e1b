#!/usr/bin/env bash
# mkseeds.sh - regenerate the seed corpora in t/fuzz/corpus from t/data
# (the conformance corpus, the interop messages and the test keys), the
# sample configurations and a few hand-written cases.
#
#	t/fuzz/mkseeds.sh [DKIMCTL]
#
# DKIMCTL (default ./dkimctl) signs the interop messages with the keys
# published as ed/rsa._domainkey.fuzz.example (see keys.c), so the verify
# seeds include signatures that pass. The output is committed: the tree
# does not need this script, t/data or a build to fuzz or to replay. Each
# seed is named after the SHA-1 of its content, as libFuzzer names inputs.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
dkimctl=${1:-$top/dkimctl}
[ -x "$dkimctl" ] || { echo "mkseeds: build dkimctl first (or name it)" >&2; exit 1; }
scratch=$(mktemp -d "${TMPDIR:-/tmp}/mkseeds.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
# Signed messages: each interop message, with both keys, several canonicalizations.
mkdir -p "$scratch/signed"
for m in "$top"/t/data/interop/*.eml; do
	b=$(basename "$m" .eml)
	for c in relaxed/relaxed simple/simple relaxed/simple simple/relaxed; do
		cc=${c//\//-}
		"$dkimctl" sign -d fuzz.example -s ed -a ed25519-sha256 -c "$c" \
		    -k "$top/t/data/ed25519.pem" "$m" > "$scratch/signed/$b-ed-$cc.eml"
		"$dkimctl" sign -d fuzz.example -s rsa -a rsa-sha256 -c "$c" \
		    -k "$top/t/data/rsa1024.pem" "$scratch/signed/$b-ed-$cc.eml" \
		    > "$scratch/signed/$b-both-$cc.eml"
	done
done
python3 - "$top" "$scratch/signed" <<'PY'
import glob, hashlib, os, re, struct, sys

top, signed = sys.argv[1], sys.argv[2]
out = os.path.join(top, "t/fuzz/corpus")

def put(h, data):
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogateescape")
    d = os.path.join(out, h)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()), "wb") as f:
        f.write(data)

def fields(msg):
    """Header fields of a message, continuation lines joined with CRLF."""
    head = re.split(rb"\r?\n\r?\n", msg, maxsplit=1)[0]
    res = []
    for line in re.split(rb"\r?\n", head):
        if line[:1] in (b" ", b"\t") and res:
            res[-1] += b"\r\n" + line
        elif line:
            res.append(line)
    return res

for h in ("sig", "keyrec", "from", "dmarc", "authres", "conf", "verify", "sign", "milter"):
    d = os.path.join(out, h)
    if os.path.isdir(d):
        for f in os.listdir(d):
            os.unlink(os.path.join(d, f))

msgs = sorted(glob.glob(os.path.join(top, "t/data/**/*.eml"), recursive=True))
msgs += sorted(glob.glob(os.path.join(signed, "*.eml")))
for path in msgs:
    data = open(path, "rb").read()
    put("verify", data)
    for f in fields(data):
        name = f.split(b":", 1)[0].strip().lower()
        if name == b"dkim-signature":
            put("sig", f)
        elif name == b"from":
            put("from", f.split(b":", 1)[1].lstrip())
for path in sorted(glob.glob(os.path.join(top, "t/data/interop/*.eml"))):
    data = open(path, "rb").read()
    for opt in (0x00, 0x03, 0x17, 0x2a, 0x45):
        put("sign", bytes([opt]) + data)
# A verify seed whose key comes from the message itself (X-Fuzz-Key).
put("verify", open(os.path.join(signed, "basic-ed-relaxed-relaxed.eml"), "rb").read()
    .replace(b"s=ed;", b"s=other;", 1)
    .replace(b"From:", b"X-Fuzz-Key: v=DKIM1; k=ed25519; p=AAAA\r\nFrom:", 1))

for line in open(os.path.join(top, "t/data/dkim-corpus/records.tsv"), encoding="utf-8",
                 errors="surrogateescape"):
    parts = line.rstrip("\n").split("\t")
    if len(parts) >= 3 and not line.startswith("#") and parts[1] == "TXT":
        put("keyrec", parts[2])
for rec in ("v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=",
            "v=DKIM1; k=rsa; p=", "v=DKIM1; h=sha1:sha256; s=email:*; t=y:s; k=rsa; p=" +
            open(os.path.join(top, "t/data/rsa2048-pubkey-pkcs1.b64")).read().strip(),
            "k=rsa; p=" + open(os.path.join(top, "t/data/rsa2048-pubkey-spki.b64")).read().strip(),
            "v=DKIM1; k=foo; p=AAAA", "v=DKIM2; p=", "p=MIGf\r\n\tMA0G ; n=note"):
    put("keyrec", rec)

for v in ('alice@example.com', 'Alice <alice@example.com>',
          '"Bob, Jr." <bob@sub.example.co.uk>', 'a@b.example, c@d.example',
          'group: a@example.com, b@example.org;', 'undisclosed-recipients:;',
          '(comment) alice(x)@(y)example.com (z)', '"quoted@local"@example.net',
          'alice@example.com; dkim=pass', 'alice@"example.com"',
          'alice@exa\r\n mple.com', 'Jörg <jörg@bücher.example>', 'alice@[192.0.2.1]',
          '<@route.example:alice@example.com>', 'alice@example.com.', 'no-domain',
          '=?utf-8?q?J=C3=B6rg?= <j@example.com>', '<alice@EXAMPLE.COM>'):
    put("from", v)

for v in ("v=DMARC1; p=none", "v=DMARC1; p=reject; adkim=s; aspf=s",
          "v=DMARC1;p=quarantine;adkim=r;rua=mailto:d@example.com;pct=50",
          "v=DMARC1; adkim=s; adkim=r", "v=spf1 -all", "p=none; v=DMARC1",
          "v = DMARC1 ; adkim = s", "v=DMARC1; p=none; np=reject; psd=y; t=y"):
    # record, domain to walk from, then one answer per name walked
    put("dmarc", v.encode() + b"\0mail.sub.example.com\0" + b"\0" +
        b"\x01\x01v=DMARC1; p=reject; adkim=s\0" + b"\x02")
put("dmarc", b"v=DMARC1; p=none; psd=y\0a.b.c.d.e.f.g.h.i.example.co.uk\0"
    b"\x01\x02v=DMARC1; p=none\0v=spf1\0\x00\x01\x01v=DMARC1; p=quarantine; psd=n\0")
put("dmarc", b"v=DMARC1; p=reject\0example.com.\0\x02\x01\x01v=DMARC1; p=reject\0")

def ar(idd, results, tail=b""):
    b = idd + b"\0"
    for r in results:
        b += r
    return b + tail

dk = lambda flags, st, *s: bytes([0, flags, st]) + (bytes([16]) if flags & 2 else b"") + \
    b"".join(x + b"\0" for x in s)
put("authres", ar(b"mx.example.net", [dk(0x13, 1, b"ok", b"example.com", b"sel",
    b"@example.com", b"abcdEFGH", b"rsa-sha256", b"example.com")]))
put("authres", ar(b"mx.example.net", [dk(0xff, 2, b'bad "sig" (x)', b"ex;ample.com",
    b"s\r\nX-Evil: 1", b'"a b"@example.com', b"+/==", b"ed25519-sha256", b"ex ample.com"),
    bytes([1]) + b"no signature\0", bytes([2, 1]) + b"several From: addresses\0example.org\0"],
    b"mx.example.net; dkim=pass\0mx.example.net\0"))
put("authres", ar(b"(comment) \"quoted id\"", [bytes([2, 3]) + b"\0\0"]))

# Milter sessions: command letter, 2-byte length, data (see fuzz_milter.c).
def cmd(c, data=b""):
    return c.encode() + struct.pack(">H", len(data)) + data

def session(msg, client, leadspc=True, auth=None, extra=b"", abort_at=None):
    head, _, body = msg.replace(b"\r\n", b"\n").partition(b"\n\n")
    flags = 0x00100000 | 0x80 | 0x80000 if leadspc else 0
    out = cmd("O", struct.pack(">I", flags))
    out += cmd("D", b"{daemon_name}\0smtpd\0{client_addr}\0" + client.encode() + b"\0")
    out += cmd("C", b"4mail.example.net\0" + client.encode() + b"\0")
    macros = b"i\0ABC123\0" + (b"{auth_authen}\0" + auth.encode() + b"\0" if auth else b"")
    out += cmd("D", macros) + cmd("M", b"<sender@fuzz.example>\0")
    for f in fields(head + b"\n") + ([extra] if extra else []):
        name, _, value = f.partition(b":")
        if leadspc and value.startswith(b" "):
            pass
        elif value.startswith(b" "):
            value = value[1:]
        out += cmd("L", name + b"\0" + value.replace(b"\r\n", b"\n"))
    out += cmd("N")
    body = body.replace(b"\n", b"\r\n")
    for k in range(0, len(body), 700):
        if abort_at is not None and k >= abort_at:
            return out + cmd("A")
        out += cmd("B", body[k:k + 700])
    return out + cmd("E")

interop = sorted(glob.glob(os.path.join(top, "t/data/interop/*.eml")))
signed_msgs = sorted(glob.glob(os.path.join(signed, "*-both-relaxed-relaxed.eml")))
for path in interop:
    m = open(path, "rb").read().replace(b"interop.example", b"fuzz.example")
    put("milter", session(m, "127.0.0.1"))
    put("milter", session(m, "198.51.100.7", leadspc=False, auth="alice"))
for path in signed_msgs:
    m = open(path, "rb").read()
    put("milter", session(m, "198.51.100.7"))
    put("milter", session(m, "198.51.100.7", extra=b"Authentication-Results: mx.fuzz.example.; dkim=pass"))
m = open(signed_msgs[0], "rb").read()
put("milter", session(m, "198.51.100.7", abort_at=0) + session(m, "2001:db8::1") + cmd("Q") +
    session(m, "127.0.0.1"))
put("milter", session(m, "198.51.100.7", extra=b"Authentication-Results: (c) mx.fuzz.example; none") +
    session(m, "198.51.100.7"))

for path in [os.path.join(top, "conf/dkimgate.conf")] + \
        sorted(glob.glob(os.path.join(top, "contrib/examples/*.conf"))):
    put("conf", open(path, "rb").read())
put("conf", 'authserv_id = "mx.example.net";\nsign: { internal_networks = [ "10.0.0.0/8", "::1" ]; };\n'
    'keys = ( { id = "k1"; domain = "example.com"; selector = "s1"; file = "/nonexistent"; } );\n'
    'signing_table = ( { from = "*.example.com"; keys = [ "k1" ]; } );\n')
put("conf", 'verify = { max_signatures = 0; on_fail = "sometimes"; };\ndns = { timeout = -1; };\n')
PY
for h in sig keyrec from dmarc authres conf verify sign milter; do
	printf '%s: %s seeds\n' "$h" "$(ls "$top/t/fuzz/corpus/$h" | wc -l)"
done
