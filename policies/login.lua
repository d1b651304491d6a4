-- login: is this sign-in the account's owner, or an attack on the account?
--
-- Event fields:
--   account      the account's id (string)
--   ip           client IP address
--   password_ok  true when the password was right (the service checks it before asking)
--   country      (optional) where the edge places the IP: used when the geoip stage finds none
--   user_agent   (optional) the client's User-Agent; or device, a device family the service knows
--
-- The counters and labels below are shared by every worker (docs/policies.md, "State").
-- Total score: 5 or more asks for a second factor, 10 or more refuses the login.

local HOUR = 3600

local function country(ev, ctx)
  return ctx.features.geo_country or ev.country
end

rule "failed_logins_for_account" {
  description = "Repeated wrong passwords for one account: someone is guessing it.",
  tags = {"ato", "bruteforce"},
  score = function(ev)
    local _, hour = verdict.counter("login:fail:acct:" .. ev.account, 0)
    return hour > 20 and 10 or 5
  end,
  detail = "%d failures in the hour",
  when = function(ev)
    if ev.password_ok ~= false or type(ev.account) ~= "string" then return false end
    local _, hour = verdict.counter("login:fail:acct:" .. ev.account)
    if hour > 5 then verdict.label("login:attack:" .. ev.account, HOUR) end
    return hour > 5, hour
  end,
}

rule "failed_login_surge" {
  description = "Wrong passwords for an account far above its own history of typos, "
    .. "though under the fixed limit of failed_logins_for_account.",
  score = 4, tags = {"ato", "anomaly"},
  detail = "%s",
  -- Every sign-in of the account feeds its model the wrong passwords of the last hour (counted
  -- by failed_logins_for_account before this rule), learnt once an hour, so the model knows
  -- the account's usual rate, zero most of the time (docs/anomaly.md); it scores once it has
  -- learnt 30 hours with sign-ins. Three to five wrong passwords (past five the fixed limit
  -- speaks), above the account's usual range and beyond anything it has done lately.
  when = function(ev)
    if type(ev.account) ~= "string" then return false end
    local key = "login:fail:acct:" .. ev.account
    local _, hour = verdict.counter(key, 0)
    local a = verdict.anomaly(key, hour, { every = 3600, what = "wrong passwords for "
                                                             .. ev.account .. " in the hour" })
    return ev.password_ok == false and hour >= 3 and hour <= 5 and a ~= nil and a.above
      and a.novel, a and a.why
  end,
}

rule "failed_logins_from_ip" {
  description = "Many wrong passwords from one address: credential stuffing.",
  tags = {"ato", "stuffing"},
  score = function(ev)
    local _, hour = verdict.counter("login:fail:ip:" .. verdict.ip(ev.ip), 0)
    return hour > 50 and 10 or 5
  end,
  detail = "%d failures in the hour",
  when = function(ev)
    local ip = verdict.ip(ev.ip)
    if ev.password_ok ~= false or not ip then return false end
    local _, hour = verdict.counter("login:fail:ip:" .. ip)
    return hour > 10, hour
  end,
}

rule "many_accounts_from_ip" {
  description = "One address tries many different accounts.",
  score = 6, tags = {"ato", "stuffing"},
  detail = "%d accounts",
  when = function(ev)
    local ip = verdict.ip(ev.ip)
    if not ip or type(ev.account) ~= "string" then return false end
    local accounts = verdict.distinct("login:accounts:" .. ip, ev.account, HOUR)
    return accounts > 10, accounts
  end,
}

rule "account_under_attack" {
  description = "The account was attacked within the hour: ask even the right password for more.",
  score = 5, tags = {"ato"},
  detail = "for %d more seconds",
  when = function(ev)
    if ev.password_ok ~= true or type(ev.account) ~= "string" then return false end
    local left = verdict.labeled("login:attack:" .. ev.account)
    return left ~= nil, left
  end,
}

-- How this account signs in: its profile ---------------------------------------------------
--
-- verdict.profile keeps, per account, decayed counts of the countries, devices and hours of its
-- sign-ins with the right password, and its last place: it answers how usual this sign-in is
-- for the account before adding it (docs/policies.md, "Behaviour profiles"). Wrong passwords
-- only read it: an attacker's attempts must not teach it their habits. new_country reads it
-- (once a request); the rules after it read what it found, through features.

local first_token = verdict.re([[^([\w\-]+)]])

-- A device family from the User-Agent: the browser (or app) and the system, without versions.
local function device(ev)
  if type(ev.device) == "string" then return ev.device end
  local ua = ev.user_agent
  if type(ua) ~= "string" then return nil end
  local browser = ua:find("Edg/", 1, true) and "Edge" or ua:find("OPR/", 1, true) and "Opera"
    or ua:find("Firefox/", 1, true) and "Firefox" or ua:find("Chrome/", 1, true) and "Chrome"
    or ua:find("Safari/", 1, true) and "Safari" or first_token:match(ua) or "other"
  local system = ua:find("Android", 1, true) and "Android"
    or (ua:find("iPhone", 1, true) or ua:find("iPad", 1, true)) and "iOS"
    or ua:find("Windows", 1, true) and "Windows" or ua:find("Mac OS X", 1, true) and "macOS"
    or ua:find("Linux", 1, true) and "Linux" or "other"
  return browser .. "/" .. system
end

-- Reads the account's profile (and, for a right password, adds this sign-in to it) and hands
-- what it found to the rules after new_country through features: one read per request.
local function read_profile(ev, ctx)
  local where = country(ev, ctx)
  local _, hour = verdict.now(true)
  local lat, lon = verdict.country_place(where)
  -- Hours in bands of three: eight values, as many as a profile keeps for an attribute.
  local p = verdict.profile("login:" .. ev.account,
                            { country = where, device = device(ev), hours = hour // 3 },
                            { read_only = ev.password_ok ~= true,
                              place = lat and { lat, lon } or nil })
  ctx:set("profile_sign_ins", p.events)
  if where then ctx:set("profile_country_new", p.country.new) end
  if device(ev) then ctx:set("profile_device_new", p.device.new) end
  ctx:set("profile_hour_share", p.hours.share)
  if p.travel then
    ctx:set("profile_travel_km", math.floor(p.travel.km))
    ctx:set("profile_travel_kmh", math.floor(math.min(p.travel.kmh, 1e9)))
  end
  return p
end

rule "new_country" {
  description = "A right password from a country this account has not signed in from lately.",
  score = 5, tags = {"ato", "geo"},
  detail = "first sign-in from %s",
  when = function(ev, ctx)
    if type(ev.account) ~= "string" then return false end
    local p = read_profile(ev, ctx)
    local where = country(ev, ctx)
    return ev.password_ok == true and p.events > 0 and where ~= nil and p.country.new, where
  end,
}

rule "new_device" {
  description = "A right password from a browser or system this account has not used lately.",
  score = 3, tags = {"ato", "device"},
  detail = "first sign-in with %s",
  when = function(ev, ctx)
    return ev.password_ok == true and (ctx.features.profile_sign_ins or 0) > 0
      and ctx.features.profile_device_new == true, device(ev)
  end,
}

rule "unusual_hour" {
  description = "A sign-in at hours (UTC, in bands of three) this account almost never signs in at.",
  score = 2, tags = {"ato", "time"},
  detail = "%d:00 UTC: %.0f%% of its sign-ins",
  when = function(ev, ctx)
    local share = ctx.features.profile_hour_share
    if ev.password_ok ~= true or (ctx.features.profile_sign_ins or 0) < 10 or share == nil
       or share >= 0.03 then
      return false
    end
    local _, hour = verdict.now(true)
    return true, hour, share * 100
  end,
}

rule "impossible_travel" {
  description = "Two sign-ins too far apart for the time between them: one of them is not the owner.",
  score = 6, tags = {"ato", "geo"},
  detail = "%d km from the last sign-in, %s",
  when = function(ev, ctx)
    local km, kmh = ctx.features.profile_travel_km, ctx.features.profile_travel_kmh
    if ev.password_ok ~= true or km == nil or km <= 2000 or kmh <= 1000 then return false end
    return true, km, kmh >= 1e9 and "at the same time" or ("at " .. kmh .. " km/h")
  end,
}

pipeline "login" {
  description = "Sign-in: the owner, or an account takeover attempt?",
  stages = {
    plugin "geoip" { country_db = verdict.data_dir .. "/geoip/country.mmdb" },
    stage "attempts" { "failed_logins_for_account", "failed_login_surge", "failed_logins_from_ip",
                       "many_accounts_from_ip" },
    stage "account"  { "account_under_attack", "new_country", "new_device", "unusual_hour",
                       "impossible_travel" },
  },
  actions = { second_factor = 5, refuse = 10 },
}
