#!/usr/bin/perl
# Builds an ASN MMDB (the GeoLite2-ASN record shape: autonomous_system_number and
# autonomous_system_organization) from ip-location-db's range CSVs:
#   first_ip,last_ip,asn,organisation
# Usage: asn-csv-to-mmdb.pl OUT.mmdb asn-ipv4.csv [asn-ipv6.csv ...]
use strict;
use warnings;
use MaxMind::DB::Writer::Tree;

my ($out, @inputs) = @ARGV;
die "usage: $0 OUT.mmdb CSV...\n" unless $out && @inputs;

my %types = (
    autonomous_system_number       => 'uint32',
    autonomous_system_organization => 'utf8_string',
);
my $tree = MaxMind::DB::Writer::Tree->new(
    ip_version              => 6,
    record_size             => 28,
    database_type           => 'Verdict-ASN',
    languages               => ['en'],
    description             => { en => 'ASN by IP range, built from @ip-location-db/asn' },
    map_key_type_callback   => sub { $types{ $_[0] } },
    alias_ipv6_to_ipv4      => 1,
    remove_reserved_networks => 0,
);

my ($n, $skipped) = (0, 0);
for my $file (@inputs) {
    open my $fh, '<:encoding(UTF-8)', $file or die "$file: $!\n";
    while (my $line = <$fh>) {
        chomp $line;
        # The organisation is the last column and may be quoted (it may hold commas).
        my ($first, $last, $asn, $org) = $line =~ /^([^,]+),([^,]+),(\d+),(.*)$/ or next;
        $org =~ s/^"(.*)"$/$1/s and $org =~ s/""/"/g;
        # Ranges inside the IPv6 aliases of IPv4 space (Teredo, 6to4) cannot be stored: those
        # addresses resolve through their IPv4 network instead.
        my $ok = eval {
            $tree->insert_range($first, $last, {
                autonomous_system_number       => $asn + 0,
                autonomous_system_organization => $org // '',
            });
            1;
        };
        $ok ? $n++ : $skipped++;
    }
    close $fh;
}
open my $ofh, '>:raw', "$out.tmp" or die "$out: $!\n";
$tree->write_tree($ofh);
close $ofh or die "$out: $!\n";
rename "$out.tmp", $out or die "$out: $!\n";
print STDERR "wrote $out: $n ranges ($skipped inside IPv4 aliases skipped)\n";
