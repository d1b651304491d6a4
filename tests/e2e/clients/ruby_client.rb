# A Verdict client on Debian's ruby-msgpack (the msgpack gem, a C extension of its own), written
# the way a Ruby service would talk to verdictd. Usage: ruby_client.rb SOCKET IP
# Prints "ok CHECK" for each check that passed and the decoded decision as "decision JSON";
# test_interop.py compares that decision with the one its own client gets. Exits 1 at the
# first failed check.
require 'json'
require 'msgpack'
require 'socket'

SOCKET_PATH, IP = ARGV
BAD = { 'ip' => IP, 'email' => 'x@mailinator.com', 'username' => 'bob1234' }.freeze
GOOD = { 'ip' => IP, 'email' => 'jane.doe@gmail.com', 'username' => 'janedoe',
         'user_agent' => 'Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Gecko/20100101 Firefox/115.0',
         'form_ms' => 6000 }.freeze

def check(name, ok, detail = nil)
  abort "FAIL #{name}: #{detail.inspect}" unless ok
end

# msgpack-RPC over one connection: requests can be pipelined and replies come back in any
# order, so replies that arrive before they are waited for are kept by msgid.
class Conn
  def initialize(path)
    @sock = UNIXSocket.new(path)
    @unpacker = MessagePack::Unpacker.new
    @next_id = 0
    @early = {}
  end

  def send_request(method, params, msgid = nil)
    msgid ||= (@next_id += 1)
    @sock.write([0, msgid, method, params].to_msgpack)
    msgid
  end

  def notify(method, params)
    @sock.write([2, method, params].to_msgpack)
  end

  def read_reply
    loop do
      @unpacker.each do |msg|
        # Every string of every reply arrives as msgpack str (a UTF-8 String), never as bin.
        check('reply', msg.is_a?(Array) && msg.size == 4 && msg[0] == 1 && all_text?(msg), msg)
        return msg
      end
      @unpacker.feed(@sock.readpartial(65_536))
    end
  end

  # [error, result] of the reply to msgid.
  def wait(msgid)
    until @early.key?(msgid)
      _, id, err, res = read_reply
      @early[id] = [err, res]
    end
    @early.delete(msgid)
  end

  def call(method, *params)
    wait(send_request(method, params))
  end
end

def all_text?(obj)
  case obj
  when String then obj.encoding == Encoding::UTF_8 && obj.valid_encoding?
  when Array then obj.all? { |o| all_text?(o) }
  when Hash then obj.all? { |k, v| all_text?(k) && all_text?(v) }
  else true
  end
end

# The decide result as docs/protocol.md describes it.
def decision_shape?(r)
  r.is_a?(Hash) && r['action'].is_a?(String) && r['score'].is_a?(Float) &&
    r['reasons'].is_a?(Array) && r['reasons'].all? do |x|
      x['rule'].is_a?(String) && x['stage'].is_a?(String) && x['score'].is_a?(Float) &&
        (!x.key?('detail') || x['detail'].is_a?(String))
    end &&
    r['tags'].is_a?(Array) && r['tags'].all? { |t| t.is_a?(String) } &&
    r['pipeline'] == 'signup' && r['policy'].match?(/\A\h{16}\z/) &&
    r['elapsed_us'].is_a?(Integer) && r['elapsed_us'] >= 0 &&
    r['features'].is_a?(Hash) && r['faults'].is_a?(Array)
end

def rpc_error?(err, code, *needles)
  err.is_a?(Hash) && err.keys.sort == %w[code message] && err['code'] == code &&
    err['message'].is_a?(String) && needles.all? { |n| err['message'].include?(n) }
end

def rules(result)
  result['reasons'].map { |x| x['rule'] }
end

c = Conn.new(SOCKET_PATH)

err, res = c.call('ping')
check('ping', err.nil? && res == 'pong' && res.encoding == Encoding::UTF_8, [err, res])
puts 'ok ping'

err, decision = c.call('decide', 'signup', BAD)
check('decide', err.nil? && decision_shape?(decision) && decision['action'] == 'block' &&
                rules(decision).include?('disposable_email'), [err, decision])
puts 'ok decide'

# Ruby packs binary (ASCII-8BIT) strings as msgpack bin: method, pipeline, keys, values and
# option names all sent that way mean the same as str.
bin_event = BAD.to_h { |k, v| [k.b, v.b] }
err, res = c.call('decide'.b, 'signup'.b, bin_event, { 'explain'.b => true })
check('bin', err.nil? && decision_shape?(res) && res['action'] == decision['action'] &&
             rules(res) == rules(decision) && res['trace'].is_a?(Array), [err, res])
err, res = c.call('ping'.b)
check('bin', err.nil? && res == 'pong', [err, res])
puts 'ok bin'

# Five requests written before any reply is read, with msgids out of order (the largest a
# u32 can hold among them); each reply must be the answer to its own request.
sent = {
  4_294_967_295 => ['ping', []],
  17 => ['decide', ['signup', GOOD]],
  900 => ['decide', ['signup', BAD]],
  3 => ['pipelines', []],
  65_536 => ['no_such_method', []]
}
sent.each { |id, (method, params)| c.send_request(method, params, id) }
got = sent.keys.to_h { |id| [id, c.wait(id)] }
check('pipelined', got[4_294_967_295] == [nil, 'pong'], got[4_294_967_295])
check('pipelined', got[17][0].nil? && got[17][1]['action'] == 'allow', got[17])
check('pipelined', got[900][0].nil? && got[900][1]['action'] == 'block', got[900])
check('pipelined', got[3][0].nil? && got[3][1].is_a?(Array) &&
                   got[3][1].any? { |p| p['name'] == 'signup' }, got[3])
check('pipelined', rpc_error?(got[65_536][0], 'unknown_method') && got[65_536][1].nil?,
      got[65_536])
puts 'ok pipelined'

_, before = c.call('stats')
c.notify('decide', ['signup', BAD])
c.notify('client_info'.b, [{ 'name'.b => 'ruby'.b }])
_, after = c.call('stats')
check('notification', after['notifications'] >= before['notifications'] + 2, [before, after])
puts 'ok notification'

err, res = c.call('decidee', 'signup', BAD)
check('unknown_method', rpc_error?(err, 'unknown_method', 'decidee', 'decide') && res.nil?,
      [err, res])
puts 'ok unknown_method'

# Bytes that are not UTF-8 come back as the text String#scrub makes of them.
name = "verdict\xe2\x82 \xf0\x9f\x98 \xff".b
err, = c.call(name)
check('repair', rpc_error?(err, 'unknown_method', "'#{name.dup.force_encoding('UTF-8').scrub}'"),
      err)
puts 'ok repair'

[[42, {}], ['signup'], ['signup', [1, 2]], ['signup', {}, { 'colour' => 'red' }]].each do |params|
  err, res = c.call('decide', *params)
  check('bad_params', rpc_error?(err, 'bad_request') && res.nil?, [params, err, res])
end
puts 'ok bad_params'

err, res = c.call('decide', 'nope', BAD)
check('unknown_pipeline', rpc_error?(err, 'unknown_pipeline', 'nope', 'signup') && res.nil?,
      [err, res])
check('unknown_pipeline', c.call('ping') == [nil, 'pong'], 'the connection is still usable')
puts 'ok unknown_pipeline'

puts "decision #{JSON.generate(decision)}"
