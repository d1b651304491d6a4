-- Campaigns in Redis: the embedded index's rules (engine/state/campaign.c), run by Redis for
-- one lookup or report at a time, so that every daemon sharing the server sees one index.
-- The daemon runs it as a Redis function (Redis 7: loaded once, then FCALL), or where
-- functions are missing as a script (EVALSHA) that ends with "return campaign(KEYS, ARGV)".
--
-- ARGV: what ('t' text, 'f' fields, 'r' report), key prefix, now (event time, seconds),
-- campaign id (16 hex digits: a text's own, a group's, a report's), report kind ('t'/'f'),
-- window, ttl, look ('1': change nothing), then
--   text:   source ('register:rank' of its hash, or ''), sketch (128 bytes), 8 band keys (hex)
--   fields: source
--   report: bad ('1'/'0'), weight, reporter bit (0..63, or -1)
--   'g' (an operator's look), 'x' (its removal): nothing more
--
-- A campaign is one string, read and written whole (little-endian): a header of numbers
-- (HEAD below), the window's and the last hour's item counts (RING_BYTES each), the sources'
-- HyperLogLog registers (two generations of 128), and for a text the sketch of its first text.
-- The daemon reads the counts and sources from it. Keys: a text campaign is
-- "<prefix>m:{t}:<id>", with "<id>:x" a hash of what only joining and expiry need (its band
-- keys, its members' band keys), and each band key a sorted set "<prefix>m:{t}:b:<band>" of
-- the campaigns filed under it (score: when); all texts share one hash tag because a lookup
-- must read the bands and campaigns of every scope atomically. A lockstep group is
-- "<prefix>m:{f:<id>}".
-- Reply: {0} when there is no campaign, else {1, id, created, agree, matched, the campaign}.

local P, now, TB -- of the call being served
local SLOTS, HOUR, HASHES, CANDIDATES, PER_BAND, MEMBERS = 12, 3600, 32, 16, 64, 3
local SLACK = 3600 -- seconds a key outlives its campaign in Redis (times are event times)
-- first_seen, last_seen, expires, window, ttl, size, bad, good, reporters' bits 0-31 and
-- 32-63, the sources' generation, members, when its band keys were last kept alive
local HEAD = '<ddddddddddddd'
local HEAD_BYTES, RING_BYTES, REG_BYTES, SKETCH_BYTES = 8 * 13, 8 * SLOTS, 256, 4 * HASHES
local EMPTY_RING, ZEROS -- made at the first call: a function library's loading has no string

-- The campaign under key as a table (nil when there is none).
local function load(key)
  local b = redis.call('GET', key)
  if not b or #b < HEAD_BYTES + 2 * RING_BYTES + REG_BYTES then return nil end
  local t = {}
  t.fs, t.ls, t.exp, t.win, t.ttl, t.size, t.bad, t.good, t.ra, t.rb, t.sg, t.m, t.bx =
    struct.unpack(HEAD, b)
  local at = HEAD_BYTES
  t.r = string.sub(b, at + 1, at + RING_BYTES)
  t.h = string.sub(b, at + RING_BYTES + 1, at + 2 * RING_BYTES)
  at = at + 2 * RING_BYTES
  t.src = string.sub(b, at + 1, at + REG_BYTES)
  t.sk = string.sub(b, at + REG_BYTES + 1)
  t.blob = b
  return t
end

local function pack(t)
  return struct.pack(HEAD, t.fs, t.ls, t.exp, t.win, t.ttl, t.size, t.bad, t.good, t.ra, t.rb,
                     t.sg, t.m, t.bx) .. t.r .. t.h .. t.src .. t.sk
end

local function save(key, t)
  t.blob = pack(t)
  redis.call('SET', key, t.blob, 'EX', math.max(t.exp - now, 1) + SLACK)
end

-- Adds an item to a ring of SLOTS buckets of width seconds: bucket i holds the count of time
-- number e (time / width) when e % SLOTS == i, as (e, count); the daemon adds up the buckets
-- still inside the window. An addition touches one bucket.
local function ring_add(r, width)
  local e = math.floor(now / width)
  local at = 8 * (e % SLOTS)
  local be, count = struct.unpack('<I4I4', r, at + 1)
  if be > e then return r end -- its bucket holds a newer time: this one left the window
  count = be == e and math.min(count + 1, 4294967295) or 1
  return string.sub(r, 1, at) .. struct.pack('<I4I4', e, count) .. string.sub(r, at + 9)
end

-- Adds a source (src: 'register:rank', or '') to two generations of 128 HyperLogLog
-- registers of half a window each, as the embedded index keeps them.
local function sources(t, half, src)
  if src == '' then return end -- no source: nothing moves, as embedded
  local g = math.floor(now / half)
  local regs, at = t.src, 0
  if g < t.sg then -- older than the newest source: counted while its half is kept
    if g + 1 ~= t.sg then return end
    at = 128
  elseif g ~= t.sg then
    regs = ZEROS .. (g == t.sg + 1 and string.sub(regs, 1, 128) or ZEROS)
    t.sg = g
  end
  local idx, rho = string.match(src, '^(%d+):(%d+)$')
  if idx then
    idx, rho = at + tonumber(idx), tonumber(rho)
    if rho > string.byte(regs, idx + 1) then
      regs = string.sub(regs, 1, idx) .. string.char(rho) .. string.sub(regs, idx + 2)
    end
  end
  t.src = regs
end

-- Counts the item in campaign t (unless look) and returns the reply.
local function touch(key, id, t, src, look, created, agree, matched)
  if not look then
    t.size = t.size + 1
    if now > t.ls then t.ls = now end
    t.exp = t.ls + t.ttl
    sources(t, math.floor(t.win / 2), src)
    t.r = ring_add(t.r, math.floor(t.win / SLOTS))
    t.h = ring_add(t.h, HOUR / SLOTS)
    save(key, t)
  end
  return {1, id, created, agree, matched, t.blob}
end

local function fresh(win, ttl, sk)
  return {fs = now, ls = now, exp = now + ttl, win = win, ttl = ttl, size = 0, bad = 0,
          good = 0, ra = 0, rb = 0, sg = 0, m = 0, bx = now, r = EMPTY_RING, h = EMPTY_RING,
          src = ZEROS .. ZEROS, sk = sk or ''}
end

-- ---- text ----

-- Files campaign id under band key bk. held: how many campaigns the lookup found there (at
-- most CANDIDATES): none means a new key, which needs no trimming and no look at its expiry.
local function band_file(bk, id, ttl, held)
  redis.call('ZADD', bk, now, id)
  if held == 0 then
    redis.call('EXPIRE', bk, 2 * ttl + SLACK)
    return
  end
  if held >= CANDIDATES then redis.call('ZREMRANGEBYRANK', bk, 0, -(PER_BAND + 1)) end
  if redis.call('TTL', bk) < 2 * ttl then redis.call('EXPIRE', bk, 2 * ttl + SLACK) end
end

local function drop_text(id)
  local bk = redis.call('HGET', TB .. id .. ':x', 'bk')
  for b in string.gmatch(bk or '', '%x+') do redis.call('ZREM', TB .. 'b:' .. b, id) end
  redis.call('DEL', TB .. id, TB .. id .. ':x')
end

local SKETCH -- the sketch's 32 numbers' format; made at the first call, as EMPTY_RING

-- How many of a candidate's sketch values (as bytes) equal the text's (as numbers).
local function agreement(a, mine)
  local theirs, n = {struct.unpack(SKETCH, a)}, 0
  for i = 1, HASHES do
    if theirs[i] == mine[i] then n = n + 1 end
  end
  return n
end

-- What the choice among candidates reads of one: its expiry, size and first text's sketch,
-- without cutting the whole campaign into fields (nil when there is none).
local SKETCH_AT = HEAD_BYTES + 2 * RING_BYTES + REG_BYTES
local function glance(key)
  local b = redis.call('GET', key)
  if not b or #b < SKETCH_AT + SKETCH_BYTES then return nil end
  local exp = struct.unpack('<d', b, 17)
  local size = struct.unpack('<d', b, 41)
  return exp, size, string.sub(b, SKETCH_AT + 1, SKETCH_AT + SKETCH_BYTES)
end

-- Files the bands of a member that differs from the first text (as campaign.c add_member):
-- those the first text or an earlier member has are left out.
local function add_member(id, t, bands, held)
  local x = TB .. id .. ':x'
  local got = redis.call('HMGET', x, 'bk', 'm1', 'm2', 'm3')
  if not got[1] then -- its band keys are gone: it takes no more members
    t.m = MEMBERS
    return
  end
  local first, known = {}, {}
  for b in string.gmatch(got[1], '%x+') do
    if #first < 8 then first[#first + 1] = b end
  end
  for m = 1, t.m do
    local i = 0
    for k in string.gmatch(got[1 + m] or '', '%x+') do
      i = i + 1
      known[i .. ':' .. k] = true
    end
  end
  local mine, bk = {}, got[1]
  for b = 1, 8 do
    if bands[b] == first[b] or known[b .. ':' .. bands[b]] then
      mine[b] = '0'
    else
      mine[b] = bands[b]
      band_file(TB .. 'b:' .. bands[b], id, t.ttl, held[b])
      bk = bk .. ' ' .. bands[b]
    end
  end
  t.m = t.m + 1
  redis.call('HSET', x, 'm' .. t.m, table.concat(mine, ','), 'bk', bk)
end

-- Keeps a campaign's band keys alive as long as it lives (a few times a ttl, or now).
local function refresh_bands(id, t, now_too)
  if not now_too and now < t.bx + math.floor(t.ttl / 4) then return end
  local x = TB .. id .. ':x'
  for b in string.gmatch(redis.call('HGET', x, 'bk') or '', '%x+') do
    local bk = TB .. 'b:' .. b
    if redis.call('TTL', bk) < 2 * t.ttl then redis.call('EXPIRE', bk, 2 * t.ttl + SLACK) end
  end
  redis.call('EXPIRE', x, 2 * t.ttl + SLACK)
  t.bx = now
end

local function text(id, win, ttl, look, src, sk, bands)
  local ids, seen, held = {}, {}, {}
  for b = 1, 8 do
    local found = redis.call('ZREVRANGE', TB .. 'b:' .. bands[b], 0, CANDIDATES - 1)
    held[b] = #found
    for _, c in ipairs(found) do
      if #ids < CANDIDATES and not seen[c] then
        seen[c] = true
        ids[#ids + 1] = c
      end
    end
  end
  local top, top_size, best, half = 0, 0, nil, HASHES / 2
  local mine -- the text's sketch as numbers, made when a candidate is not an exact copy
  for _, c in ipairs(ids) do
    local exp, size, their = glance(TB .. c)
    local a = 0
    if not exp then
      size = 0
      for b = 1, 8 do redis.call('ZREM', TB .. 'b:' .. bands[b], c) end
    elseif exp <= now then
      size = 0
      drop_text(c)
    elseif their == sk then -- a copy of the first text: a wave's usual case
      a = HASHES
    else
      mine = mine or {struct.unpack(SKETCH, sk)}
      a = agreement(their, mine)
    end
    local match, top_match = a > half, top > half
    local better
    if match ~= top_match then better = match
    elseif match and size ~= top_size then better = size > top_size
    elseif a ~= top then better = a > top
    else better = a > 0 and c < best end
    if better then top, top_size, best = a, size, c end
  end
  if top > half then
    local t = load(TB .. best)
    if not look then -- what these change in t, touch saves
      if top < HASHES and t.m < MEMBERS then add_member(best, t, bands, held) end
      refresh_bands(best, t)
    end
    return touch(TB .. best, best, t, src, look, 0, top, 1)
  end
  if look then return {0} end
  local t = load(TB .. id)
  if t and t.exp <= now then
    drop_text(id)
    t = nil
  end
  local created = 0
  if not t then
    t = fresh(win, ttl, sk)
    created = 1
  end
  -- Its own bands, filed again: this text is its first text, and no band led here, so they
  -- were pruned or evicted while the campaign lived on (as embedded, it stays findable).
  redis.call('HSETNX', TB .. id .. ':x', 'bk', table.concat(bands, ' '))
  redis.call('EXPIRE', TB .. id .. ':x', 2 * t.ttl + SLACK)
  for b = 1, 8 do band_file(TB .. 'b:' .. bands[b], id, t.ttl, held[b]) end
  return touch(TB .. id, id, t, src, false, created, HASHES, 0)
end

-- ---- fields ----

local function fields(id, win, ttl, look, src)
  local key = P .. 'm:{f:' .. id .. '}'
  local t = load(key)
  if t and t.exp <= now then
    redis.call('DEL', key)
    t = nil
  end
  local created = 0
  if not t then
    if look then return {0} end
    t = fresh(win, ttl)
    created = 1
  end
  return touch(key, id, t, src, look, created, HASHES, 1 - created)
end

-- ---- reports ----

local function report(id, kind, bad, weight, bit)
  local key = kind == 't' and TB .. id or P .. 'm:{f:' .. id .. '}'
  local t = load(key)
  if not t or t.exp <= now then return {0} end
  if bad then t.bad = t.bad + weight else t.good = t.good + weight end
  if bad and bit >= 0 then
    local half, b = bit < 32 and 'ra' or 'rb', bit % 32
    if math.floor(t[half] / 2 ^ b) % 2 == 0 then t[half] = t[half] + 2 ^ b end
  end
  if now + t.ttl > t.exp then t.exp = now + t.ttl end
  if kind == 't' then refresh_bands(id, t, true) end -- a reported text stays findable as long
  save(key, t)
  return touch(key, id, t, '', true, 0, HASHES, 0)
end

-- ---- an operator's look (and removal: a poisoned campaign) ----

local function inspect(id, kind, drop)
  local key = kind == 't' and TB .. id or P .. 'm:{f:' .. id .. '}'
  local t = load(key)
  if not t or t.exp <= now then return {0} end
  if drop and kind == 't' then
    drop_text(id)
  elseif drop then
    redis.call('DEL', key)
  end
  return {1, id, 0, HASHES, 0, t.blob}
end

-- One lookup or report (ARGV above; KEYS only route the call in a Cluster).
local function campaign(KEYS, ARGV)
  local what, id, win, ttl, look = ARGV[1], ARGV[4], tonumber(ARGV[6]), tonumber(ARGV[7]),
                                   ARGV[8] == '1'
  P, now = ARGV[2], tonumber(ARGV[3])
  TB = P .. 'm:{t}:'
  if not ZEROS then
    EMPTY_RING, ZEROS = string.rep('\0', 8 * SLOTS), string.rep('\0', 128)
    SKETCH = '<' .. string.rep('I4', HASHES)
  end
  if what == 't' then
    local bands = {}
    for b = 1, 8 do bands[b] = ARGV[10 + b] end
    return text(id, win, ttl, look, ARGV[9], ARGV[10], bands)
  elseif what == 'f' then
    return fields(id, win, ttl, look, ARGV[9])
  elseif what == 'g' or what == 'x' then
    return inspect(id, ARGV[5], what == 'x')
  end
  return report(id, ARGV[5], ARGV[9] == '1', tonumber(ARGV[10]), tonumber(ARGV[11]))
end
