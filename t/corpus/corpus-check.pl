#!/usr/bin/perl
# corpus-check.pl - score dkimctl verify against the DKIM conformance corpus.
#
# Helper of t/corpus/run-corpus.sh (which starts the DNS server); not meant
# to be run by hand, though it can be:
#
#   corpus-check.pl --dkimctl PATH --port PORT [--timeout SECONDS] CORPUSDIR
#
# For every message of CORPUSDIR/expected.tsv it runs
#   dkimctl verify --resolver 127.0.0.1@PORT --timeout SECONDS --authserv-id corpus.test
# and parses the one Authentication-Results field printed.  dkimctl lists one
# dkim= result per DKIM-Signature field, in header order from the top, so the
# row with sig_index N is matched to result N.  The match is cross-checked:
# the number of results must equal the number of DKIM-Signature fields in the
# message, and where a result names header.b / header.d / header.s they must
# belong to that signature (header.b a prefix of its b=, d and s equal), so a
# result can never be scored against the wrong signature.  A message without
# any DKIM-Signature (sig_index "-") must get exactly dkim=none.
#
# Per row it prints "ok - ..." when our result is in the row's "acceptable"
# list (lenient) and "not ok - ..." otherwise, with file, index, expected,
# ours and our reason; strict agreement (ours equals "expected") is shown as
# "[strict]" or "[lenient]".  Then a summary with the strict and lenient
# scores.
#
# Exit status: 0 when every row is acceptable, 1 otherwise, 2 on bad usage
# or an unreadable corpus.
use strict;
use warnings;

my ($dkimctl, $port, $timeout) = (undef, undef, 3);
while (@ARGV && $ARGV[0] =~ /^--/) {
	my $o = shift @ARGV;
	if    ($o eq '--dkimctl') { $dkimctl = shift @ARGV; }
	elsif ($o eq '--port')    { $port = shift @ARGV; }
	elsif ($o eq '--timeout') { $timeout = shift @ARGV; }
	else { usage(); }
}
usage() unless defined $dkimctl && defined $port && @ARGV == 1;
my $corpus = shift @ARGV;

sub usage {
	print STDERR "usage: corpus-check.pl --dkimctl PATH --port PORT [--timeout S] CORPUSDIR\n";
	exit 2;
}

# expected.tsv: rows grouped by file, in file order.
open(my $fh, '<', "$corpus/expected.tsv") or do {
	print STDERR "corpus-check: cannot read $corpus/expected.tsv: $!\n";
	exit 2;
};
my $head = <$fh>;
chomp $head;
my @cols = split /\t/, $head;
my %ci = map { $cols[$_] => $_ } 0 .. $#cols;
for (qw(file sig_index d s expected acceptable)) {
	die "corpus-check: expected.tsv has no column '$_'\n" unless exists $ci{$_};
}
my (@files, %rows);
while (my $line = <$fh>) {
	$line =~ s/\r?\n\z//;
	next if $line eq '';
	my @f = split /\t/, $line, -1;
	my %r = map { $_ => $f[$ci{$_}] } keys %ci;
	push @files, $r{file} unless $rows{$r{file}};
	push @{$rows{$r{file}}}, \%r;
}
close $fh;

# "\xNN" escapes of expected.tsv back to bytes.
sub unescape { my $s = shift; $s =~ s/\\x([0-9A-Fa-f]{2})/chr hex $1/ge; return $s; }

# The DKIM-Signature fields of a message, each as { b => ..., d => ..., s => ... }
# (values with whitespace removed; undef when the tag is absent).
sub message_sigs {
	my ($path) = @_;
	open(my $m, '<:raw', $path) or die "corpus-check: cannot read $path: $!\n";
	local $/;
	my $text = <$m>;
	close $m;
	my ($header) = split /\r?\n\r?\n/, $text, 2;
	my @fields;
	for my $l (split /\r?\n/, $header) {
		if ($l =~ /^[ \t]/ && @fields) { $fields[-1] .= "\n$l"; }
		else { push @fields, $l; }
	}
	my @sigs;
	for my $f (@fields) {
		next unless $f =~ /^DKIM-Signature[ \t]*:(.*)\z/is;
		my %t;
		for my $tv (split /;/, $1) {
			next unless $tv =~ /^\s*([A-Za-z][A-Za-z0-9_]*)\s*=(.*)\z/s;
			my ($k, $v) = ($1, $2);
			$v =~ s/\s+//g;
			$t{$k} = $v unless exists $t{$k};
		}
		push @sigs, \%t;
	}
	return @sigs;
}

# Split an unfolded Authentication-Results value at the ';' that are outside
# quoted strings and comments.
sub split_resinfo {
	my ($s) = @_;
	my (@parts, $cur, $depth, $inq);
	($cur, $depth, $inq) = ('', 0, 0);
	my @c = split //, $s;
	for (my $i = 0; $i < @c; $i++) {
		my $ch = $c[$i];
		if ($inq) {
			$cur .= $ch;
			if ($ch eq '\\' && $i + 1 < @c) { $cur .= $c[++$i]; }
			elsif ($ch eq '"') { $inq = 0; }
		} elsif ($depth) {
			$cur .= $ch;
			if ($ch eq '\\' && $i + 1 < @c) { $cur .= $c[++$i]; }
			elsif ($ch eq '(') { $depth++; }
			elsif ($ch eq ')') { $depth--; }
		} elsif ($ch eq '"') { $inq = 1; $cur .= $ch; }
		elsif ($ch eq '(') { $depth = 1; $cur .= $ch; }
		elsif ($ch eq ';') { push @parts, $cur; $cur = ''; }
		else { $cur .= $ch; }
	}
	push @parts, $cur;
	return @parts;
}

sub unquote {
	my ($v) = @_;
	return $v unless defined $v && $v =~ /^"(.*)"\z/s;
	($v = $1) =~ s/\\(.)/$1/g;
	return $v;
}

# Parse one dkim= resinfo into { result, comment, reason, header.d, ... }.
sub parse_resinfo {
	my ($ri) = @_;
	my %r;
	my $comments = '';
	# Take comments out (keeping them) so that property parsing is simple.
	my $flat = '';
	my ($depth, $inq) = (0, 0);
	my @c = split //, $ri;
	for (my $i = 0; $i < @c; $i++) {
		my $ch = $c[$i];
		if ($depth) {
			if ($ch eq '\\' && $i + 1 < @c) { $comments .= $c[++$i]; next; }
			$depth++ if $ch eq '(';
			$depth-- if $ch eq ')';
			$comments .= $ch if $depth;
			next;
		}
		if ($inq) {
			$flat .= $ch;
			if ($ch eq '\\' && $i + 1 < @c) { $flat .= $c[++$i]; }
			elsif ($ch eq '"') { $inq = 0; }
			next;
		}
		if ($ch eq '(') { $depth = 1; $comments .= ' ' if $comments ne ''; next; }
		$inq = 1 if $ch eq '"';
		$flat .= $ch;
	}
	$r{comment} = $comments;
	return undef unless $flat =~ /^\s*dkim\s*=\s*([A-Za-z]+)/;
	$r{result} = lc $1;
	while ($flat =~ /([A-Za-z][A-Za-z0-9.\-]*)\s*=\s*("(?:[^"\\]|\\.)*"|[^\s;"]+)/g) {
		my ($k, $v) = (lc $1, $2);
		next if $k eq 'dkim';
		$r{$k} = unquote($v);
	}
	return \%r;
}

# Run dkimctl on a message; returns (exit status, list of parsed results,
# raw output).
sub verify {
	my ($path) = @_;
	my @cmd = ('timeout', '60', $dkimctl, 'verify', '--resolver', "127.0.0.1\@$port",
	    '--timeout', $timeout, '--authserv-id', 'corpus.test', $path);
	my $pid = open(my $out, '-|');
	die "corpus-check: fork: $!\n" unless defined $pid;
	if ($pid == 0) {
		open(STDERR, '>&', \*STDOUT);
		exec @cmd or exit 127;
	}
	local $/;
	my $text = <$out> // '';
	close $out;
	my $rc = $? >> 8;
	(my $unf = $text) =~ s/\r?\n[ \t]+/ /g;
	my @res;
	if ($unf =~ /^Authentication-Results:\s*(.*)$/m) {
		my @parts = split_resinfo($1);
		shift @parts;	# authserv-id
		for my $p (@parts) {
			my $r = parse_resinfo($p);
			push @res, $r if $r;
		}
	}
	return ($rc, \@res, $text);
}

my ($n, $strict, $lenient) = (0, 0, 0);
my @misses;
for my $file (@files) {
	my $path = "$corpus/messages/$file";
	my @sigs = message_sigs($path);
	my ($rc, $res, $raw) = verify($path);
	my $problem;
	if ($rc != 0) {
		$problem = "dkimctl exited $rc: " . (split /\n/, $raw)[0];
	} elsif (!@sigs) {
		$problem = 'expected exactly one dkim=none'
		    unless @$res == 1 && $res->[0]{result} eq 'none';
	} elsif (@$res != @sigs) {
		$problem = scalar(@$res) . " results for " . scalar(@sigs) . " signatures";
	}
	for my $row (@{$rows{$file}}) {
		my $idx = $row->{sig_index};
		my $r;
		my $why = $problem;
		if (!defined $why) {
			if ($idx eq '-') {
				$r = $res->[0];
			} elsif ($idx !~ /^\d+$/ || $idx >= @sigs) {
				$why = "row index $idx but the message has " . scalar(@sigs) . " signatures";
			} else {
				$r = $res->[$idx];
				my $sg = $sigs[$idx];
				my $hb = $r->{'header.b'};
				if (defined $hb && (!defined $sg->{b} || length($hb) < 8 ||
				    substr($sg->{b}, 0, length $hb) ne $hb)) {
					$why = "result $idx has header.b=$hb, not this signature's b=";
				} elsif (defined $r->{'header.d'} &&
				    lc $r->{'header.d'} ne lc unescape($row->{d})) {
					$why = "result $idx has header.d=$r->{'header.d'}, the row d=$row->{d}";
				} elsif (defined $r->{'header.s'} &&
				    lc $r->{'header.s'} ne lc unescape($row->{s})) {
					$why = "result $idx has header.s=$r->{'header.s'}, the row s=$row->{s}";
				}
			}
		}
		$n++;
		my %acc = map { $_ => 1 } split /,/, $row->{acceptable};
		my $ours = defined $why ? '?' : $r->{result};
		my $reason = defined $why ? $why : ($r->{reason} // '');
		my $is_strict = !defined $why && $ours eq $row->{expected};
		my $is_lenient = !defined $why && $acc{$ours};
		$strict++ if $is_strict;
		$lenient++ if $is_lenient;
		my $line = sprintf('%s#%s expected=%s ours=%s reason="%s"%s', $file, $idx,
		    $row->{expected}, $ours, $reason,
		    defined $why ? '' : $r->{comment} ne '' ? " ($r->{comment})" : '');
		if ($is_lenient) {
			print "ok - $line [" . ($is_strict ? 'strict' : "lenient: $row->{acceptable}") . "]\n";
		} else {
			print "not ok - $line [acceptable: $row->{acceptable}]\n";
			push @misses, "$file#$idx";
		}
	}
}
printf "# corpus %s: %d rows, strict %d/%d, lenient %d/%d\n", $corpus, $n, $strict, $n,
    $lenient, $n;
if (@misses) {
	print "# misses: @misses\n";
	exit 1;
}
exit 0;
