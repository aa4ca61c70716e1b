#!/usr/bin/perl
# mdkim.pl - drive Mail::DKIM for t/interop/run-interop.sh.
#
# DNS goes to the test server only: Mail::DKIM::DNS::resolver() is given a
# Net::DNS::Resolver aimed at 127.0.0.1 port PORT.
#
#   mdkim.pl verify PORT FILE...
#       Verify each FILE with Mail::DKIM::Verifier.  One line per
#       DKIM-Signature: FILE<TAB>INDEX<TAB>result<TAB>result_detail, where
#       result is Mail::DKIM's (pass, fail, invalid, temperror, none).
#   mdkim.pl sign <JOBS
#       Each job line: KEYFILE DOMAIN SELECTOR ALG HCANON/BCANON IN OUT.
#       Signs IN with Mail::DKIM::Signer and writes the DKIM-Signature field
#       plus IN to OUT.  Prints "OUT<TAB>ok" or "OUT<TAB>error<TAB>why".
#
# Mail::DKIM reads a message with CRLF line ends; a file with bare LF ends is
# converted first, as an MTA would put it on the wire.  A signed LF file gets
# its signature with LF line ends too.
#
# Exit status: 0, or 2 on bad usage.
use strict;
use warnings;

use Mail::DKIM::DNS;
use Mail::DKIM::Signer;
use Mail::DKIM::Verifier;
use Net::DNS::Resolver;

sub slurp {
	my ($f) = @_;
	open(my $fh, '<:raw', $f) or die "cannot read $f: $!\n";
	local $/;
	my $t = <$fh>;
	close $fh;
	return $t;
}

sub to_crlf { my $t = shift; $t =~ s/\r?\n/\r\n/g; return $t; }

sub cmd_verify {
	my ($port, @files) = @_;
	Mail::DKIM::DNS::resolver(Net::DNS::Resolver->new(
	    nameservers => ['127.0.0.1'], port => $port, recurse => 1,
	    udp_timeout => 5, tcp_timeout => 5, retry => 1, dnsrch => 0,
	    defnames => 0));
	for my $f (@files) {
		my $v = Mail::DKIM::Verifier->new();
		$v->PRINT(to_crlf(slurp($f)));
		$v->CLOSE();
		my @sigs = grep { $_->isa('Mail::DKIM::Signature') } $v->signatures;
		print "$f\t-\tnone\tno DKIM-Signature\n" unless @sigs;
		my $i = 0;
		for my $s (@sigs) {
			my $d = $s->result_detail // '';
			$d =~ s/\s+/ /g;
			printf "%s\t%d\t%s\t%s\n", $f, $i++, $s->result // 'none', $d;
		}
	}
	return 0;
}

sub cmd_sign {
	while (my $line = <STDIN>) {
		my @p = split ' ', $line;
		next unless @p;
		my ($keyfile, $domain, $selector, $alg, $canon, $in, $out) = @p;
		my $ok = eval {
			my $msg = slurp($in);
			my $lf = $msg !~ /\r\n/;
			my $s = Mail::DKIM::Signer->new(Algorithm => $alg, Method => $canon,
			    Domain => $domain, Selector => $selector, KeyFile => $keyfile);
			$s->PRINT(to_crlf($msg));
			$s->CLOSE();
			my $sig = $s->signature or die "no signature made\n";
			my $field = $sig->as_string;
			$field =~ s/\r?\n/\n/g if $lf;
			open(my $o, '>:raw', $out) or die "cannot write $out: $!\n";
			print $o $field, ($lf ? "\n" : "\r\n"), $msg;
			close $o or die "cannot write $out: $!\n";
			1;
		};
		if ($ok) {
			print "$out\tok\n";
		} else {
			(my $e = $@ // 'unknown error') =~ s/\s+/ /g;
			print "$out\terror\t$e\n";
		}
	}
	return 0;
}

my $cmd = shift @ARGV // '';
if ($cmd eq 'verify' && @ARGV >= 1) { exit cmd_verify(@ARGV); }
if ($cmd eq 'sign' && !@ARGV) { exit cmd_sign(); }
print STDERR "usage: mdkim.pl verify PORT FILE... | sign <JOBS\n";
exit 2;
