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

test "a right password from a new country" {
  event = login(),
  labels = { ["login:history:acct-1001"] = true },
  expect = { action = "second_factor", score = 5, fired = "new_country", tags = "geo" },
}

test "a country the account signed in from before" {
  event = login(),
  labels = { ["login:history:acct-1001"] = true, ["login:country:acct-1001:DE"] = 86400 },
  expect = { action = "allow", not_fired = "new_country" },
}

test "the first sign-in of an account has no new country" {
  event = login(),
  expect = { not_fired = "new_country" },
}

test "the country the edge gives when geoip knows none" {
  event = login { ip = "10.1.2.3", country = "FR" },
  labels = { ["login:history:acct-1001"] = true, ["login:country:acct-1001:DE"] = 86400 },
  expect = { fired = "new_country", features = { geo_country = absent } },
}

test "a second sign-in from the same new country is known" {
  event = login { country = "FR", ip = "10.1.2.3" },
  before = { login(), login { ip = "10.1.2.3", country = "FR" } },
  expect = { not_fired = "new_country" },
}
