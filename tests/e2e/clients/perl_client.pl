# A Verdict client on Debian's libdata-messagepack-perl (Data::MessagePack, an XS codec of its
# own), written the way a Perl service would talk to verdictd. Usage: perl_client.pl SOCKET IP
# Prints "ok CHECK" for each check that passed and the decoded decision as "decision JSON";
# test_interop.py compares that decision with the one its own client gets. Dies at the first
# failed check.
use strict;
use warnings;
use Data::MessagePack;
use Encode ();
use IO::Socket::UNIX;
use JSON::PP;
use Scalar::Util qw(looks_like_number);

my ($socket_path, $ip) = @ARGV;
my %bad  = (ip => $ip, email => 'x@mailinator.com', username => 'bob1234');
my %good = (ip => $ip, email => 'jane.doe@gmail.com', username => 'janedoe',
            user_agent => 'Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Gecko/20100101 Firefox/115.0',
            form_ms => 6000);

# Data::MessagePack packs every Perl string as msgpack bin unless told the strings are text:
# $bytes is that default (all bin), $text sends str.
my $bytes = Data::MessagePack->new;
my $text  = Data::MessagePack->new->utf8;
my $json  = JSON::PP->new->utf8->canonical;

sub check {
    my ($name, $ok, $detail) = @_;
    die "FAIL $name: " . $json->allow_nonref->encode(plain($detail)) . "\n" unless $ok;
}

# JSON::PP cannot encode Data::MessagePack's booleans.
sub plain {
    my ($v) = @_;
    return [map { plain($_) } @$v] if ref $v eq 'ARRAY';
    return {map { $_ => plain($v->{$_}) } keys %$v} if ref $v eq 'HASH';
    return $v ? JSON::PP::true : JSON::PP::false if ref $v eq 'Data::MessagePack::Boolean';
    return $v;
}

my $sock = IO::Socket::UNIX->new(Type => SOCK_STREAM, Peer => $socket_path)
    or die "connect $socket_path: $!\n";
my $inbuf = '';
my %early;    # replies that arrived before they were waited for, by msgid
my $next_id = 0;

sub send_request {
    my ($packer, $method, $params, $msgid) = @_;
    $msgid //= ++$next_id;
    print {$sock} $packer->pack([0, $msgid, $method, $params]) or die "write: $!\n";
    return $msgid;
}

# The streaming Unpacker keeps no buffer of its own across calls, so each reply is unpacked
# by a fresh one from the start of what has been read and not yet consumed.
sub read_reply {
    while (1) {
        if (length $inbuf) {
            my $u = Data::MessagePack::Unpacker->new->utf8;
            my $off = $u->execute($inbuf, 0);
            if ($u->is_finished) {
                my $msg = $u->data;
                substr($inbuf, 0, $off) = '';
                check('reply', ref $msg eq 'ARRAY' && @$msg == 4 && $msg->[0] == 1, $msg);
                return $msg;
            }
        }
        my $n = sysread($sock, $inbuf, 65536, length $inbuf);
        die "read: " . (defined $n ? "connection closed" : $!) . "\n" unless $n;
    }
}

# (error, result) of the reply to msgid.
sub wait_reply {
    my ($msgid) = @_;
    until (exists $early{$msgid}) {
        my (undef, $id, $err, $res) = @{read_reply()};
        $early{$id} = [$err, $res];
    }
    return @{delete $early{$msgid}};
}

sub call { my ($method, @params) = @_; return wait_reply(send_request($text, $method, \@params)) }

sub is_str { defined $_[0] && !ref $_[0] }
sub is_num { defined $_[0] && !ref $_[0] && looks_like_number($_[0]) }

# The decide result as docs/protocol.md describes it.
sub decision_shape {
    my ($r) = @_;
    return 0 unless ref $r eq 'HASH' && is_str($r->{action}) && is_num($r->{score});
    for my $x (@{$r->{reasons}}) {
        return 0 unless is_str($x->{rule}) && is_str($x->{stage}) && is_num($x->{score});
        return 0 if exists $x->{detail} && !is_str($x->{detail});
    }
    return 0 if grep { !is_str($_) } @{$r->{tags}};
    return $r->{pipeline} eq 'signup' && $r->{policy} =~ /\A[0-9a-f]{16}\z/
        && $r->{elapsed_us} =~ /\A\d+\z/ && ref $r->{features} eq 'HASH'
        && ref $r->{faults} eq 'ARRAY';
}

sub rpc_error {
    my ($err, $code, @needles) = @_;
    return 0 unless ref $err eq 'HASH' && join(',', sort keys %$err) eq 'code,message';
    return 0 unless $err->{code} eq $code && is_str($err->{message});
    return !grep { index($err->{message}, $_) < 0 } @needles;
}

sub rules { join ',', map { $_->{rule} } @{$_[0]{reasons}} }

my ($err, $res) = call('ping');
check('ping', !defined $err && $res eq 'pong', [$err, $res]);
print "ok ping\n";

($err, my $decision) = call('decide', 'signup', \%bad);
check('decide', !defined $err && decision_shape($decision) && $decision->{action} eq 'block'
      && rules($decision) =~ /\bdisposable_email\b/, [$err, $decision]);
print "ok decide\n";

# The library's default: method, pipeline, keys, values and option names all as bin.
($err, $res) = wait_reply(send_request($bytes, 'decide', ['signup', \%bad, {explain => Data::MessagePack::true}]));
check('bin', !defined $err && decision_shape($res) && $res->{action} eq $decision->{action}
      && rules($res) eq rules($decision) && ref $res->{trace} eq 'ARRAY', [$err, $res]);
($err, $res) = wait_reply(send_request($bytes, 'ping', []));
check('bin', !defined $err && $res eq 'pong', [$err, $res]);
print "ok bin\n";

# Five requests written before any reply is read, with msgids out of order (the largest a
# u32 can hold among them); each reply must be the answer to its own request.
my %sent = (4294967295 => ['ping', []], 17 => ['decide', ['signup', \%good]],
            900 => ['decide', ['signup', \%bad]], 3 => ['pipelines', []],
            65536 => ['no_such_method', []]);
send_request($text, @{$sent{$_}}, $_ + 0) for keys %sent;
my %got = map { $_ => [wait_reply($_ + 0)] } keys %sent;
check('pipelined', !defined $got{4294967295}[0] && $got{4294967295}[1] eq 'pong', $got{4294967295});
check('pipelined', !defined $got{17}[0] && $got{17}[1]{action} eq 'allow', $got{17});
check('pipelined', !defined $got{900}[0] && $got{900}[1]{action} eq 'block', $got{900});
check('pipelined', !defined $got{3}[0] && grep({ $_->{name} eq 'signup' } @{$got{3}[1]}), $got{3});
check('pipelined', rpc_error($got{65536}[0], 'unknown_method') && !defined $got{65536}[1],
      $got{65536});
print "ok pipelined\n";

my (undef, $before) = call('stats');
print {$sock} $text->pack([2, 'decide', ['signup', \%bad]]);
print {$sock} $bytes->pack([2, 'client_info', [{name => 'perl'}]]);
my (undef, $after) = call('stats');
check('notification', $after->{notifications} >= $before->{notifications} + 2, [$before, $after]);
print "ok notification\n";

($err, $res) = call('decidee', 'signup', \%bad);
check('unknown_method', rpc_error($err, 'unknown_method', 'decidee', 'decide') && !defined $res,
      [$err, $res]);
print "ok unknown_method\n";

# Bytes that are not UTF-8 come back as the text Encode makes of them.
my $name = "verdict\xe2\x82 \xf0\x9f\x98 \xff";
($err) = wait_reply(send_request($bytes, $name, []));
check('repair', rpc_error($err, 'unknown_method', "'" . Encode::decode('UTF-8', $name) . "'"),
      $err);
print "ok repair\n";

for my $params ([42, {}], ['signup'], ['signup', [1, 2]], ['signup', {}, {colour => 'red'}]) {
    ($err, $res) = call('decide', @$params);
    check('bad_params', rpc_error($err, 'bad_request') && !defined $res, [$params, $err, $res]);
}
print "ok bad_params\n";

($err, $res) = call('decide', 'nope', \%bad);
check('unknown_pipeline', rpc_error($err, 'unknown_pipeline', 'nope', 'signup') && !defined $res,
      [$err, $res]);
($err, $res) = call('ping');
check('unknown_pipeline', !defined $err && $res eq 'pong', 'the connection is still usable');
print "ok unknown_pipeline\n";

print 'decision ', $json->encode(plain($decision)), "\n";
