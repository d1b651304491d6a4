-- Tests of the login pipeline (login.lua): `verdict test policies` runs them.
--
-- Every case starts from empty state: the failures counted and the labels set before it are
-- given by the case (counters, distinct, labels) or made by events decided first (before).
-- 80.133.10.20 is in Germany for the geoip stage; 10.1.2.3, a private address, is nowhere.

local function login(changes)
  return merge({ account = "acct-1001", ip = "80.133.10.20", password_ok = true }, changes or {})
end

local function wrong_password(changes)
  return login(merge({ password_ok = false }, changes or {}))
end

test "the owner signs in" {
  event = login(),
  expect = {
    action = "allow",
    score = 0,
    not_fired = { "failed_logins_for_account", "failed_logins_from_ip",
                  "many_accounts_from_ip", "account_under_attack", "new_country" },
    features = { geo_country = "DE" },
  },
}

test "a wrong password now and then" {
  event = wrong_password(),
  expect = { action = "allow", not_fired = { "failed_logins_for_account", "failed_logins_from_ip" } },
}

-- Guessing one account's password -----------------------------------------------------------

test "the sixth wrong password for an account within the hour" {
  event = wrong_password(),
  counters = { ["login:fail:acct:acct-1001"] = { hour = 5 } },
  expect = { action = "second_factor", score = 5, fired = "failed_logins_for_account",
             tags = { "ato", "bruteforce" } },
}

test "five wrong passwords in the hour are still typos" {
  event = wrong_password(),
  counters = { ["login:fail:acct:acct-1001"] = { hour = 4 } },
  expect = { action = "allow", not_fired = "failed_logins_for_account" },
}

test "over twenty wrong passwords in the hour refuse the login" {
  event = wrong_password(),
  counters = { ["login:fail:acct:acct-1001"] = { minute = 3, hour = 20 } },
  expect = { action = "refuse", score = 10, fired = "failed_logins_for_account" },
}

test "wrong passwords of yesterday do not count" {
  event = wrong_password(),
  counters = { ["login:fail:acct:acct-1001"] = { day = 40 } },
  expect = { not_fired = "failed_logins_for_account" },
}

-- Six wrong passwords, then the right one: the guessing labelled the account.
local guessing = {}
for i = 1, 6 do
  guessing[i] = wrong_password { ip = "198.51.100." .. i }
end

test "after a guessing attack even the right password asks for more" {
  event = login(),
  before = guessing,
  expect = { action = "second_factor", fired = "account_under_attack",
             not_fired = "failed_logins_from_ip" },
}

test "an account labelled as under attack" {
  event = login(),
  labels = { ["login:attack:acct-1001"] = 1800 },
  expect = { action = "second_factor", score = 5, fired = "account_under_attack" },
}

test "a wrong password for an account under attack is counted, not asked for more" {
  event = wrong_password(),
  labels = { ["login:attack:acct-1001"] = 1800 },
  expect = { not_fired = "account_under_attack" },
}

test "another account is not under attack" {
  event = login { account = "acct-2002" },
  labels = { ["login:attack:acct-1001"] = 1800 },
  expect = { action = "allow", not_fired = "account_under_attack" },
}

-- Credential stuffing: one address, many accounts -------------------------------------------

test "the eleventh wrong password from one address within the hour" {
  event = wrong_password(),
  counters = { ["login:fail:ip:80.133.10.20"] = { hour = 10 } },
  expect = { action = "second_factor", fired = "failed_logins_from_ip",
             not_fired = "failed_logins_for_account" },
}

test "ten wrong passwords from an address are not yet stuffing" {
  event = wrong_password(),
  counters = { ["login:fail:ip:80.133.10.20"] = { hour = 9 } },
  expect = { not_fired = "failed_logins_from_ip" },
}

test "over fifty wrong passwords from one address refuse" {
  event = wrong_password(),
  counters = { ["login:fail:ip:80.133.10.20"] = { hour = 50 } },
  expect = { action = "refuse", score = 10, fired = "failed_logins_from_ip" },
}

test "no address, no count by address" {
  event = wrong_password { ip = "unknown" },
  counters = { ["login:fail:ip:unknown"] = { hour = 50 } },
  expect = { not_fired = "failed_logins_from_ip" },
}

test "one address trying an eleventh account" {
  event = login(),
  distinct = { ["login:accounts:80.133.10.20"] = 10 },
  expect = { action = "second_factor", score = 6, fired = "many_accounts_from_ip",
             tags = "stuffing" },
}

test "ten accounts from one address are a shared office" {
  event = login(),
  distinct = { ["login:accounts:80.133.10.20"] = 9 },
  expect = { not_fired = "many_accounts_from_ip" },
}

test "the same account again is not another one" {
  event = login(),
  distinct = { ["login:accounts:80.133.10.20"] = { "a1", "a2", "a3", "a4", "a5", "a6", "a7",
                                                   "a8", "a9", "acct-1001" } },
  expect = { not_fired = "many_accounts_from_ip" },
}

-- Where the owner signs in from -------------------------------------------------------------

-- Three sign-ins from Germany with Firefox on Linux: an account with habits.
local FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"
local HABITS = { login { user_agent = FIREFOX }, login { user_agent = FIREFOX },
                 login { user_agent = FIREFOX } }

test "the first sign-in of an account" {
  event = login { user_agent = FIREFOX },
  expect = { action = "allow", not_fired = { "new_country", "new_device", "impossible_travel" },
             features = { profile_sign_ins = 0 } },
}

test "a sign-in like the account's others" {
  event = login { user_agent = FIREFOX },
  before = HABITS,
  expect = { action = "allow", not_fired = { "new_country", "new_device" },
             features = { profile_sign_ins = 3, profile_country_new = false,
                          profile_device_new = false } },
}

test "a right password from a new country" {
  event = login { ip = "10.1.2.3", country = "FR", user_agent = FIREFOX },
  before = HABITS,
  expect = { action = "second_factor", score = 5, fired = "new_country", tags = "geo",
             not_fired = { "new_device", "impossible_travel" },
             features = { geo_country = absent, profile_travel_km = { min = 800, max = 1000 } } },
}

test "an account's first sign-in has no new country" {
  event = login { ip = "10.1.2.3", country = "FR" },
  expect = { not_fired = "new_country" },
}

test "a second sign-in from the same new country is known" {
  event = login { country = "FR", ip = "10.1.2.3" },
  before = { login(), login(), login(), login { ip = "10.1.2.3", country = "FR" } },
  expect = { not_fired = "new_country" },
}

test "a new device" {
  event = login { user_agent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
                               .. "(KHTML, like Gecko) Chrome/120.0 Safari/537.36" },
  before = HABITS,
  expect = { action = "allow", score = 3, fired = "new_device" },
}

test "a device the service names" {
  event = login { device = "ios-app" },
  before = { login { device = "ios-app" }, login { device = "ios-app" },
             login { device = "ios-app" } },
  expect = { not_fired = "new_device" },
}

test "a wrong password does not teach the profile" {
  event = login { ip = "10.1.2.3", country = "BR" },
  before = { login(), login(), login(), wrong_password { ip = "10.1.2.3", country = "BR" },
             wrong_password { ip = "10.1.2.3", country = "BR" } },
  expect = { fired = "new_country", features = { profile_sign_ins = 3 } },
}

test "Germany then Australia at once is impossible travel" {
  event = login { ip = "10.1.2.3", country = "AU" },
  before = HABITS,
  expect = { action = "refuse", fired = { "new_country", "impossible_travel" },
             features = { profile_travel_km = { min = 15000, max = 17000 } } },
}

test "a neighbouring country is not impossible travel" {
  event = login { ip = "10.1.2.3", country = "NL" },
  before = HABITS,
  expect = { fired = "new_country", not_fired = "impossible_travel" },
}

-- Twelve sign-ins on the last twelve days, each at the case's hour (SAME_HOUR) or twelve
-- hours off it (OTHER_HOUR): `ago` is counted back from the case's time.
local SAME_HOUR, OTHER_HOUR = {}, {}
for day = 12, 1, -1 do
  SAME_HOUR[#SAME_HOUR + 1] = ago(day * 86400, login())
  OTHER_HOUR[#OTHER_HOUR + 1] = ago(day * 86400 - 12 * 3600, login())
end

test "a sign-in at an hour the account never signs in at" {
  time = "2026-03-14T03:10:00Z",
  event = login(),
  before = OTHER_HOUR,
  expect = { action = "allow", score = 2, fired = "unusual_hour",
             features = { profile_sign_ins = 12, profile_hour_share = 0 } },
}

test "a sign-in at the account's usual hour" {
  time = "2026-03-14T15:10:00Z",
  event = login(),
  before = SAME_HOUR,
  expect = { not_fired = "unusual_hour" },
}

test "an unusual hour needs ten sign-ins first" {
  time = "2026-03-14T03:10:00Z",
  event = login(),
  before = { ago(86400, login()), ago(2 * 86400, login()), ago(3 * 86400, login()) },
  expect = { not_fired = "unusual_hour" },
}

test "Germany then Australia nine hours apart is still impossible" {
  event = login { ip = "10.1.2.3", country = "AU" },
  before = { ago(9 * 3600, login()), ago(9 * 3600, login()), ago(9 * 3600, login()) },
  expect = { fired = "impossible_travel", features = { profile_travel_kmh = { min = 1500 } } },
}

test "Germany then Australia two days apart is a trip" {
  event = login { ip = "10.1.2.3", country = "AU" },
  before = { ago(2 * 86400, login()), ago(2 * 86400, login()), ago(2 * 86400, login()) },
  expect = { fired = "new_country", not_fired = "impossible_travel" },
}

-- Wrong passwords against the account's own history ------------------------------------------
--
-- Fourteen days of the owner's sign-ins during working hours, one in five with a typo; then
-- four wrong passwords within eight minutes: under the fixed limit (more than five in the
-- hour), far above what this account does.

local function owners_history(typos_every)
  local events, seed = {}, 11
  for t = 14 * 86400, 900, -300 do
    local hour = ((14 * 3600 - t) % 86400) // 3600
    seed = (seed * 1103515245 + 12345) % 2147483648
    if hour >= 8 and hour < 19 and seed % 12 == 0 then
      events[#events + 1] = ago(t, login { ip = "10.1.2.3", password_ok = seed % typos_every ~= 0 })
    end
  end
  return events
end

local TYPOS = owners_history(5)
for k = 1, 3 do TYPOS[#TYPOS + 1] = ago(600 - k * 120, wrong_password { ip = "10.1.2.3" }) end

test "wrong passwords far above the account's own history" {
  time = "2026-03-16T14:00:00Z",
  event = wrong_password { ip = "10.1.2.3" },
  before = TYPOS,
  expect = { fired = "failed_login_surge", tags = "anomaly",
             not_fired = "failed_logins_for_account" },
}

local TWO = owners_history(5)
TWO[#TWO + 1] = ago(120, wrong_password { ip = "10.1.2.3" })

test "two wrong passwords are not a surge" {
  time = "2026-03-16T14:00:00Z",
  event = wrong_password { ip = "10.1.2.3" },
  before = TWO,
  expect = { not_fired = "failed_login_surge" },
}

test "a client with a User-Agent of no known browser" {
  event = login { user_agent = "curl/8.4.0", ip = "10.1.2.3", country = "AU" },
  before = { login { user_agent = "curl/8.4.0" }, login { user_agent = "curl/8.4.0" } },
  expect = { fired = { "new_country", "impossible_travel" }, not_fired = "new_device",
             features = { profile_device_new = false } },
}

-- Thirty days of sign-ins spread over ten hours of the day, noon among them: no hour of them
-- is unusual, though they are more than a profile keeps values of an attribute.
local SPREAD = {}
for day = 30, 1, -1 do SPREAD[#SPREAD + 1] = ago(day * 86400 + (day % 10) * 3600, login()) end

test "a sign-in at one of many usual hours" {
  time = "2026-03-16T12:00:00Z",
  event = login(),
  before = SPREAD,
  expect = { not_fired = "unusual_hour" },
}
