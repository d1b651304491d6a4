-- login: is this sign-in the account's owner, or an attack on the account?
--
-- Event fields:
--   account      the account's id (string)
--   ip           client IP address
--   password_ok  true when the password was right (the service checks it before asking)
--   country      (optional) where the edge places the IP; the geoip stage finds it otherwise
--
-- The counters and labels below are shared by every worker (docs/policies.md, "State").
-- Total score: 5 or more asks for a second factor, 10 or more refuses the login.

local HOUR, DAY = 3600, 86400

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

rule "new_country" {
  description = "A right password from a country this account has never signed in from.",
  score = 5, tags = {"ato", "geo"},
  detail = "first sign-in from %s",
  when = function(ev, ctx)
    local where = country(ev, ctx)
    if ev.password_ok ~= true or type(ev.account) ~= "string" or not where then return false end
    local seen = "login:country:" .. ev.account .. ":" .. where
    local known = verdict.labeled(seen) ~= nil
    local has_history = verdict.labeled("login:history:" .. ev.account) ~= nil
    verdict.label(seen, 90 * DAY)  -- remembered for the next time, whatever we decide
    verdict.label("login:history:" .. ev.account, 90 * DAY)
    return has_history and not known, where
  end,
}

pipeline "login" {
  description = "Sign-in: the owner, or an account takeover attempt?",
  stages = {
    plugin "geoip" { country_db = verdict.data_dir .. "/geoip/country.mmdb" },
    stage "attempts" { "failed_logins_for_account", "failed_logins_from_ip",
                       "many_accounts_from_ip" },
    stage "account"  { "account_under_attack", "new_country" },
  },
  actions = { second_factor = 5, refuse = 10 },
}
