#!/usr/bin/perl
# testdns-conf.pl - turn RECORDS.tsv files into an unbound configuration.
#
# Helper of t/dns/testdns (see there for the whole picture); not meant to be
# run by hand.
#
#   testdns-conf.pl --statedir DIR --port PORT --identity TEXT --ttl SECONDS
#                   [--signed ZONE]... [--servfail ZONE]... [--blackhole ZONE]...
#                   RECORDS.tsv...
#
# Writes DIR/unbound.conf.new and, for every --signed ZONE, the unsigned zone
# file DIR/zones/ZONE.zone (t/dns/testdns signs it into DIR/zones/ZONE.signed,
# which the configuration names).
#
# RECORDS.tsv: "owner<TAB>type<TAB>value[<TAB>note]", '#' starts a comment
# line.  type is TXT, CNAME, A or AAAA.  A TXT value longer than 255 octets is
# cut into 255-octet character-strings of one record; a value containing " | "
# is already cut (each piece is one character-string); an empty value is one
# empty string.  Every line is one record, so repeated owner+TXT lines make an
# RRset of several records.
#
# All text is written in zone-file presentation format with every octet that
# is not plainly safe written as \DDD, so quotes, backslashes, ';', '#' and
# non-ASCII octets survive both unbound's configuration lexer and zone files.
#
# Exit status: 0, or 1 with a message naming file and line on bad input.
use strict;
use warnings;

my ($statedir, $port, $identity, $ttl);
my (@signed, @servfail, @blackhole, @files);

sub usage { die "usage: testdns-conf.pl --statedir DIR --port PORT --identity TEXT --ttl N [zone options] RECORDS.tsv...\n"; }

# A zone name in canonical form: lower case, one trailing dot, root is ".".
sub zone_name {
	my ($z) = @_;
	$z = lc $z;
	$z =~ s/\.+$//;
	die "testdns: bad zone name '$_[0]'\n"
	    if $z eq '' or $z !~ /^[a-z0-9_\-]+(\.[a-z0-9_\-]+)*$/;
	return "$z.";
}

while (@ARGV) {
	my $a = shift @ARGV;
	if    ($a eq '--statedir')  { $statedir = shift @ARGV; }
	elsif ($a eq '--port')      { $port = shift @ARGV; }
	elsif ($a eq '--identity')  { $identity = shift @ARGV; }
	elsif ($a eq '--ttl')       { $ttl = shift @ARGV; }
	elsif ($a eq '--signed')    { push @signed, zone_name(shift @ARGV // usage()); }
	elsif ($a eq '--servfail')  { push @servfail, zone_name(shift @ARGV // usage()); }
	elsif ($a eq '--blackhole') { push @blackhole, zone_name(shift @ARGV // usage()); }
	elsif ($a =~ /^--/)         { die "testdns: unknown option $a\n"; }
	else                        { push @files, $a; }
}
{ my %seen; @signed = grep { !$seen{$_}++ } @signed; }
{ my %seen; @servfail = grep { !$seen{$_}++ } @servfail; }
{ my %seen; @blackhole = grep { !$seen{$_}++ } @blackhole; }
usage() unless defined $statedir and defined $port and defined $identity
    and defined $ttl;
die "testdns: bad TTL '$ttl' (TESTDNS_TTL)\n" unless $ttl =~ /^\d+$/;
die "testdns: no RECORDS.tsv given\n" unless @files;

# True if NAME (canonical) is ZONE or below it.
sub in_zone {
	my ($name, $zone) = @_;
	return 1 if $zone eq '.';
	return $name eq $zone || substr($name, -length($zone) - 1) eq ".$zone";
}

sub in_any { my $n = shift; for (@_) { return $_ if in_zone($n, $_); } return undef; }

# The servfail trick (a stub zone) is overridden by an enclosing auth-zone.
for my $z (@servfail) {
	my $s = in_any($z, @signed);
	die "testdns: --servfail $z inside --signed $s is not supported\n" if $s;
}

# Octets kept as they are inside a quoted string; everything else is \DDD.
sub esc {
	my ($s) = @_;
	$s =~ s{([^A-Za-z0-9 +/=:,.\@%_\-])}{sprintf("\\%03d", ord $1)}ge;
	return $s;
}

# Owner names: dots separate labels, other unsafe octets become \DDD.
sub owner_text {
	my ($o) = @_;
	$o =~ s/\.+$//;
	my @l = split /\./, $o, -1;
	die "empty label in owner\n" if grep { $_ eq '' } @l;
	return join('.', map { my $x = $_; $x =~ s{([^A-Za-z0-9_\-*])}{sprintf("\\%03d", ord $1)}ge; $x } @l) . '.';
}

sub txt_rdata {
	my ($v) = @_;
	my @pieces;
	if (index($v, ' | ') >= 0) {
		@pieces = split / \| /, $v, -1;
		for (@pieces) {
			die "pre-split TXT piece longer than 255 octets\n" if length($_) > 255;
		}
	} elsif ($v eq '') {
		@pieces = ('');
	} else {
		push @pieces, substr($v, 0, 255, '') while length $v;
	}
	return join(' ', map { '"' . esc($_) . '"' } @pieces);
}

sub rdata {
	my ($type, $v) = @_;
	return txt_rdata($v) if $type eq 'TXT';
	if ($type eq 'CNAME') {
		die "bad CNAME target '$v'\n" unless $v =~ /^[A-Za-z0-9_.\-*]+$/;
		return owner_text($v);
	}
	if ($type eq 'A') {
		die "bad A address '$v'\n" unless $v =~ /^\d{1,3}(\.\d{1,3}){3}$/;
		return $v;
	}
	if ($type eq 'AAAA') {
		die "bad AAAA address '$v'\n" unless $v =~ /^[0-9A-Fa-f:.]+$/;
		return $v;
	}
	die "unsupported type '$type' (TXT, CNAME, A, AAAA)\n";
}

my @local_data;                       # records served from unbound local-data
my %zone_rrs = map { $_ => [] } @signed;

for my $f (@files) {
	open(my $fh, '<:raw', $f) or die "testdns: cannot read $f: $!\n";
	while (my $line = <$fh>) {
		$line =~ s/\r?\n\z//;
		next if $line =~ /^#/ or $line =~ /^\s*$/;
		my ($owner, $type, $value) = split /\t/, $line, -1;
		my $rr = eval {
			die "need owner<TAB>type<TAB>value\n" unless defined $value;
			my $t = uc $type;
			owner_text($owner) . " $ttl IN $t " . rdata($t, $value);
		};
		die "testdns: $f:$.: $@" unless defined $rr;
		my $name = lc($owner =~ s/\.*$/./r);
		if (my $z = in_any($name, @blackhole, @servfail)) {
			warn "testdns: $f:$.: $owner is inside blackhole/servfail zone $z, not served\n";
		} elsif ($z = in_any($name, sort { length $b <=> length $a } @signed)) {
			push @{$zone_rrs{$z}}, $rr;
		} else {
			push @local_data, $rr;
		}
	}
	close $fh;
}

# Unsigned zone files of the signed zones; the SOA minimum (negative TTL) is 1 s
# so a name that appears on reload is not hidden by a cached NXDOMAIN.
mkdir "$statedir/zones";
for my $z (@signed) {
	my $file = "$statedir/zones/$z" . "zone";
	open(my $out, '>', $file) or die "testdns: cannot write $file: $!\n";
	print $out "$z $ttl IN SOA ns.testdns.invalid. hostmaster.testdns.invalid. 1 3600 600 86400 1\n";
	print $out "$z $ttl IN NS ns.testdns.invalid.\n";
	print $out "$_\n" for @{$zone_rrs{$z}};
	close $out or die "testdns: cannot write $file: $!\n";
}

my $conf = "$statedir/unbound.conf.new";
open(my $c, '>', $conf) or die "testdns: cannot write $conf: $!\n";
print $c <<"EOF";
# Generated by t/dns/testdns; rewritten on every start and reload.
server:
	verbosity: 1
	interface: 127.0.0.1
	port: $port
	outgoing-interface: 127.0.0.1
	do-ip4: yes
	do-ip6: no
	do-udp: yes
	do-tcp: yes
	# No second process may bind our port (unbound's default is yes).
	so-reuseport: no
	num-threads: 1
	outgoing-range: 32
	chroot: ""
	username: ""
	directory: "$statedir"
	pidfile: ""
	use-syslog: no
	logfile: "$statedir/unbound.log"
	log-time-ascii: yes
	log-queries: yes
	log-replies: yes
	log-local-actions: yes
	log-servfail: yes
	identity: "$identity"
	access-control: 127.0.0.0/8 allow
	# The server only answers; the client (libunbound) does the validation.
	module-config: "iterator"
	qname-minimisation: no
	# Stub zones below point at 127.0.0.1, which this forbids querying: an
	# instant SERVFAIL.  Nothing else is ever resolved upstream.
	do-not-query-localhost: yes
	# Every name that is not in the records: NXDOMAIN (negative TTL 1 s).
	local-zone: "." static
	local-data: ". $ttl IN SOA ns.testdns.invalid. hostmaster.testdns.invalid. 1 3600 600 86400 1"
	local-data: ". $ttl IN NS ns.testdns.invalid."
	# Drop unbound's built-in zones so "." static answers for them too.
	local-zone: "localhost." nodefault
	local-zone: "home.arpa." nodefault
	local-zone: "onion." nodefault
	local-zone: "test." nodefault
	local-zone: "invalid." nodefault
EOF
for (@blackhole) { print $c "\tlocal-zone: \"$_\" deny\n"; }
for (@servfail)  { print $c "\tlocal-zone: \"$_\" transparent\n"; }
for (@signed)    { print $c "\tlocal-zone: \"$_\" transparent\n"; }
for (@local_data) { print $c "\tlocal-data: '$_'\n"; }
for my $z (@servfail) {
	print $c "stub-zone:\n\tname: \"$z\"\n\tstub-addr: 127.0.0.1\n";
}
for my $z (@signed) {
	print $c "auth-zone:\n\tname: \"$z\"\n\tzonefile: \"$statedir/zones/${z}signed\"\n"
	    . "\tfor-downstream: yes\n\tfor-upstream: no\n\tfallback-enabled: no\n";
}
close $c or die "testdns: cannot write $conf: $!\n";
exit 0;
