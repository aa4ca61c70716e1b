#!/usr/bin/perl
# e2e-mdkim.pl - verify a message with Mail::DKIM for t/e2e/run-postfix.sh.
#
#   e2e-mdkim.pl PORT FILE
#       Verify every DKIM-Signature of FILE (CRLF line ends, as e2e-check.py
#       strip writes it) with Mail::DKIM::Verifier, DNS going only to the test
#       server at 127.0.0.1 port PORT (a Net::DNS::Resolver given to
#       Mail::DKIM::DNS::resolver).  One line per signature:
#       INDEX<TAB>d<TAB>s<TAB>a<TAB>result<TAB>result_detail
#       with Mail::DKIM's result (pass, fail, invalid, temperror, none).
#
# Exit status: 0, or 2 on bad usage or an unreadable file.
use strict;
use warnings;

use Mail::DKIM::DNS;
use Mail::DKIM::Verifier;
use Net::DNS::Resolver;

@ARGV == 2 or die "usage: e2e-mdkim.pl PORT FILE\n";
my ($port, $file) = @ARGV;
Mail::DKIM::DNS::resolver(Net::DNS::Resolver->new(
    nameservers => ['127.0.0.1'], port => $port, recurse => 1,
    udp_timeout => 5, tcp_timeout => 5, retry => 1, dnsrch => 0, defnames => 0));

open(my $fh, '<:raw', $file) or do { warn "cannot read $file: $!\n"; exit 2 };
my $msg = do { local $/; <$fh> };
close $fh;
$msg =~ s/\r?\n/\r\n/g;

my $v = Mail::DKIM::Verifier->new();
$v->PRINT($msg);
$v->CLOSE();
my @sigs = grep { $_->isa('Mail::DKIM::Signature') } $v->signatures;
print "-\t-\t-\t-\tnone\tno DKIM-Signature\n" unless @sigs;
my $i = 0;
for my $s (@sigs) {
	my $d = $s->result_detail // '';
	$d =~ s/\s+/ /g;
	printf "%d\t%s\t%s\t%s\t%s\t%s\n", $i++, $s->domain // '', $s->selector // '',
	    $s->algorithm // '', $s->result // 'none', $d;
}
exit 0;
