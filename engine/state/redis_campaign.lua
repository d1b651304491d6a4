-- Campaigns in Redis: the embedded index's rules (engine/state/campaign.c), run by Redis as one
-- script per lookup or report, so that every daemon sharing the server sees one index.
--
-- ARGV: what ('t' text, 'f' fields, 'r' report), key prefix, now (event time, seconds),
-- campaign id (16 hex digits: a text's own, a group's, a report's), report kind ('t'/'f'),
-- window, ttl, look ('1': change nothing), then
--   text:   source (hex hash or ''), sketch (128 bytes), 8 band keys (hex)
--   fields: source
--   report: bad ('1'/'0'), weight, reporter bit (0..63, or -1)
-- Keys: a text campaign is a hash "<prefix>m:{t}:<id>" and each of its band keys a sorted set
-- "<prefix>m:{t}:b:<band>" of the campaigns filed under it (score: when); all texts share
-- one hash tag because a lookup must read the bands and campaigns of every scope atomically.
-- A lockstep group is "<prefix>m:{f:<id>}". Distinct sources are Redis HyperLogLogs per
-- half window, "<campaign key>:s:<half window number>".
-- Reply: {0} when there is no campaign, else {1, id, created, agree, size, recent, growth_1h,
-- sources, first_seen, last_seen, window, bad, good, reporters' bits 0-31, bits 32-63,
-- matched}.
local what, P, now = ARGV[1], ARGV[2], tonumber(ARGV[3])
local SLOTS, HOUR, HASHES, CANDIDATES, PER_BAND, MEMBERS = 12, 3600, 32, 16, 64, 3
local SLACK = 3600 -- seconds a key outlives its campaign in Redis (times are event times)

local function load(key)
  local a = redis.call('HGETALL', key)
  if #a == 0 then return nil end
  local t = {}
  for i = 1, #a, 2 do t[a[i]] = a[i + 1] end
  for _, f in ipairs({'fs', 'ls', 'exp', 'win', 'ttl', 'size', 'bad', 'good', 'ra', 'rb', 'm',
                      'rh', 'hh', 'bx'}) do
    t[f] = tonumber(t[f] or '0')
  end
  return t
end

-- A ring of SLOTS buckets width seconds wide (campaign_count.c): adds n, returns the window's sum.
local function ring(t, name, width, n)
  local head, c = t[name .. 'h'], {}
  for j = 0, SLOTS - 1 do c[j] = 0 end
  local j = 0
  for v in string.gmatch(t[name .. 'c'] or '', '%d+') do
    c[j] = tonumber(v)
    j = j + 1
  end
  local epoch = math.floor(now / width)
  local age = epoch - head
  if n > 0 and age ~= 0 then
    for k = 1, SLOTS do
      if age > 0 and k > age then break end
      c[(head + k) % SLOTS] = 0
    end
    head, age = epoch, 0
  end
  if n > 0 then c[epoch % SLOTS] = c[epoch % SLOTS] + n end
  local sum = 0
  if age >= 0 then
    for k = age, SLOTS - 1 do sum = sum + c[(head + SLOTS - (k - age)) % SLOTS] end
  end
  local out = {}
  for k = 0, SLOTS - 1 do out[k + 1] = c[k] end
  t[name .. 'h'], t[name .. 'c'] = head, table.concat(out, ',')
  return sum
end

-- Distinct sources over one to two half windows.
local function sources(key, half, src, add)
  local g = math.floor(now / half)
  local cur = key .. ':s:' .. g
  if add and src ~= '' then
    redis.call('PFADD', cur, src)
    redis.call('EXPIRE', cur, 2 * half + SLACK)
  end
  return redis.call('PFCOUNT', cur, key .. ':s:' .. (g - 1))
end

local function save(key, t)
  redis.call('HSET', key, 'size', t.size, 'ls', t.ls, 'exp', t.exp, 'rh', t.rh, 'rc', t.rc,
             'hh', t.hh, 'hc', t.hc, 'bad', string.format('%.17g', t.bad),
             'good', string.format('%.17g', t.good), 'ra', t.ra, 'rb', t.rb)
  redis.call('EXPIRE', key, math.max(t.exp - now, 1) + SLACK)
end

-- Counts the item in campaign t (unless look) and returns the reply.
local function touch(key, id, t, src, look, created, agree, matched)
  local add = not look
  if add then
    t.size = t.size + 1
    if now > t.ls then t.ls = now end
    t.exp = t.ls + t.ttl
  end
  local n = add and 1 or 0
  local recent = ring(t, 'r', math.floor(t.win / SLOTS), n)
  local growth = ring(t, 'h', HOUR / SLOTS, n)
  local srcs = sources(key, math.floor(t.win / 2), src, add)
  if add then save(key, t) end
  return {1, id, created, agree, t.size, recent, growth, srcs, t.fs, t.ls, t.win,
          string.format('%.17g', t.bad), string.format('%.17g', t.good), t.ra, t.rb, matched}
end

local function fresh(kind, win, ttl)
  return {k = kind, fs = now, ls = now, exp = now + ttl, win = win, ttl = ttl, size = 0,
          bad = 0, good = 0, ra = 0, rb = 0, rh = 0, hh = 0, m = 0, bx = now}
end

local function create(key, t)
  redis.call('HSET', key, 'k', t.k, 'fs', t.fs, 'ls', t.ls, 'exp', t.exp, 'win', t.win,
             'ttl', t.ttl, 'size', 0, 'bad', 0, 'good', 0, 'ra', 0, 'rb', 0, 'm', t.m, 'bx', t.bx)
end

-- ---- text ----

local TB = P .. 'm:{t}:'

local function band_file(bk, id, ttl)
  redis.call('ZADD', bk, now, id)
  redis.call('ZREMRANGEBYRANK', bk, 0, -(PER_BAND + 1))
  if redis.call('TTL', bk) < ttl then redis.call('EXPIRE', bk, ttl + SLACK) end
end

local function drop_text(id, t)
  redis.call('DEL', TB .. id)
  for b in string.gmatch(t.bk or '', '%x+') do redis.call('ZREM', TB .. 'b:' .. b, id) end
end

local function agreement(a, b)
  local n = 0
  for i = 1, 4 * HASHES - 3, 4 do
    if string.sub(a, i, i + 3) == string.sub(b, i, i + 3) then n = n + 1 end
  end
  return n
end

-- Files the bands of a member that differs from the first text (as campaign.c add_member).
local function add_member(id, t, bands)
  local first, known = {}, {}
  for b in string.gmatch(t.bk, '%x+') do
    if #first < 8 then first[#first + 1] = b end
  end
  local mine = {}
  for b = 1, 8 do
    local k = bands[b] == first[b]
    for m = 1, t.m do
      local mb = {}
      for x in string.gmatch(t['m' .. m] or '', '%x+') do mb[#mb + 1] = x end
      k = k or mb[b] == bands[b]
    end
    if k then
      mine[b] = '0'
    else
      mine[b] = bands[b]
      band_file(TB .. 'b:' .. bands[b], id, t.ttl)
      t.bk = t.bk .. ' ' .. bands[b]
    end
  end
  t.m = t.m + 1
  redis.call('HSET', TB .. id, 'm', t.m, 'm' .. t.m, table.concat(mine, ','), 'bk', t.bk)
end

-- Keeps a campaign's band keys alive as long as it lives (checked a few times a ttl).
local function refresh_bands(id, t)
  if now < t.bx + math.floor(t.ttl / 4) then return end
  for b in string.gmatch(t.bk or '', '%x+') do
    local bk = TB .. 'b:' .. b
    if redis.call('TTL', bk) < t.ttl then redis.call('EXPIRE', bk, t.ttl + SLACK) end
  end
  redis.call('HSET', TB .. id, 'bx', now)
end

local function text(id, win, ttl, look, src, sk, bands)
  local ids, seen = {}, {}
  for b = 1, 8 do
    for _, c in ipairs(redis.call('ZREVRANGE', TB .. 'b:' .. bands[b], 0, CANDIDATES - 1)) do
      if #ids < CANDIDATES and not seen[c] then
        seen[c] = true
        ids[#ids + 1] = c
      end
    end
  end
  local top, top_size, best, half = 0, 0, nil, HASHES / 2
  for _, c in ipairs(ids) do
    local h = redis.call('HMGET', TB .. c, 'sk', 'size', 'exp', 'bk')
    local a, size = 0, tonumber(h[2] or '0')
    if not h[1] then
      for b = 1, 8 do redis.call('ZREM', TB .. 'b:' .. bands[b], c) end
    elseif tonumber(h[3]) <= now then
      drop_text(c, {bk = h[4]})
    else
      a = agreement(h[1], sk)
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
    local r = touch(TB .. best, best, t, src, look, 0, top, 1)
    if not look then
      if top < HASHES and t.m < MEMBERS then add_member(best, t, bands) end
      refresh_bands(best, t)
    end
    return r
  end
  if look then return {0} end
  local t = load(TB .. id)
  if t and t.exp <= now then
    drop_text(id, t)
    t = nil
  end
  local created = 0
  if not t then
    t = fresh('t', win, ttl)
    t.bk = table.concat(bands, ' ')
    create(TB .. id, t)
    redis.call('HSET', TB .. id, 'sk', sk, 'bk', t.bk)
    for b = 1, 8 do band_file(TB .. 'b:' .. bands[b], id, ttl) end
    created = 1
  end
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
    t = fresh('f', win, ttl)
    create(key, t)
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
  save(key, t)
  return touch(key, id, t, '', true, 0, HASHES, 0)
end

local id, win, ttl, look = ARGV[4], tonumber(ARGV[6]), tonumber(ARGV[7]), ARGV[8] == '1'
if what == 't' then
  local bands = {}
  for b = 1, 8 do bands[b] = ARGV[10 + b] end
  return text(id, win, ttl, look, ARGV[9], ARGV[10], bands)
elseif what == 'f' then
  return fields(id, win, ttl, look, ARGV[9])
end
return report(id, ARGV[5], ARGV[9] == '1', tonumber(ARGV[10]), tonumber(ARGV[11]))
