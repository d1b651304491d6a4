-- signup: is this new account a person, or a bot / bulk abuser?
--
-- Event fields (all optional; a missing field never breaks a rule):
--   ip          client IP address as the edge saw it ("203.0.113.7", "2001:db8::1")
--   email       address given in the form
--   username    chosen user name
--   user_agent  HTTP User-Agent of the signup request
--   country     ISO 3166 country the client claims (form or profile), optional
--   asn         autonomous system number of the IP, when the edge knows it (integer)
--   ts          Unix time of the request
--   form_ms     milliseconds between showing the form and submitting it
--
-- The geoip stage adds the IP's real country and network as features (geo_country, geo_asn,
-- geo_asn_org) from the MMDB files that `make data` fetches into verdict.data_dir.
--
-- Total score: 5 or more challenges (captcha / phone check), 10 or more blocks.

local internal   = verdict.list.ips "lists/internal_networks.txt"
local typo_mail  = verdict.list.domains "lists/email_typo_domains.txt"
local datacenter = verdict.list.exact "lists/datacenter_asns.txt"

local bot_agent     = verdict.re([[\b(curl|wget|python-requests|python-urllib|go-http-client|java/|libwww-perl|scrapy|httpclient|headlesschrome|phantomjs|selenium|puppeteer)\b]], "i")
local role_name     = verdict.re([[^(admin(istrator)?|root|support|help(desk)?|security|abuse|postmaster|hostmaster|webmaster|billing|noreply|no-reply|official|staff|moderator)[._-]?\d*$]], "i")
local digits_tail   = verdict.re([[\d{4,}$]])
local consonant_run = verdict.re([[[bcdfghjklmnpqrstvwxz]{6,}]], "i")
local hosting_name = verdict.re([[\b(hosting|cloud|datacenter|data center|server|vps|colo)]], "i")
local abused_tld   = verdict.domains {"xyz", "top", "click", "buzz", "icu", "monster", "rest",
                                       "cfd", "sbs", "quest"}

-- A `when` condition: the domain of the email address is in the set; it is the detail.
local function email_domain_in(set)
  return verdict.when.email_domain_in("email", set)
end

-- Gate --------------------------------------------------------------------------------------

rule "internal_network" {
  description = "Signups from our own networks (QA, support staff) are always allowed.",
  stop = "allow",
  when = verdict.when.is_in("ip", internal),
}

-- Identity: the email address and the user name ------------------------------------------

rule "missing_email" {
  description = "No usable email address: nothing to verify the account with.",
  score = 4, tags = {"email"},
  when = function(ev) return verdict.email_domain(ev.email) == nil end,
}

rule "disposable_email" {
  description = "Throwaway mailbox provider: the address will be gone tomorrow.",
  score = 6, tags = {"email", "disposable"},
  when = email_domain_in(disposable_domains),
}

rule "email_domain_typo" {
  description = "Misspelt big provider (gmial.com): a mistake or a typo-squatting trap.",
  score = 2, tags = {"email"},
  when = email_domain_in(typo_mail),
}

rule "random_email_local_part" {
  description = "Machine-generated mailbox name: long, high entropy, mixed with digits.",
  score = 3, tags = {"email", "generated"},
  detail = "entropy %.2f bits",
  when = function(ev)
    local localpart = verdict.email_local(ev.email)
    if not localpart or #localpart < 10 then return false end
    local entropy = verdict.entropy(localpart)
    return entropy > 3.2 and verdict.count(localpart, "digit") >= 3, entropy
  end,
}

rule "numbered_username" {
  description = "User name ending in four or more digits, the mark of bulk-created accounts.",
  score = 2, tags = {"username", "generated"},
  when = field_matches("username", digits_tail),
}

rule "keyboard_mash_username" {
  description = "Six or more consonants in a row: typed at random.",
  score = 3, tags = {"username", "generated"},
  when = field_matches("username", consonant_run),
}

rule "role_username" {
  description = "User names that impersonate staff or system roles.",
  score = 5, tags = {"username", "impersonation"},
  when = field_matches("username", role_name),
}

-- Client: the software that filled the form -------------------------------------------------

rule "missing_user_agent" {
  description = "Browsers always send a User-Agent; scripts often do not.",
  score = 4, tags = {"client", "automation"},
  when = function(ev) return ev.user_agent == nil or verdict.trim(ev.user_agent) == "" end,
}

rule "automation_user_agent" {
  description = "HTTP libraries and headless browsers, not people.",
  score = 6, tags = {"client", "automation"},
  when = field_matches("user_agent", bot_agent),
}

rule "form_filled_too_fast" {
  description = "The form was submitted faster than a person can type an address and a password.",
  score = 5, tags = {"client", "automation"},
  detail = "%s ms",
  when = function(ev)
    local ms = ev.form_ms
    return type(ms) == "number" and ms >= 0 and ms < 1500, ms
  end,
}

-- Network -----------------------------------------------------------------------------------

rule "invalid_ip" {
  description = "The caller sent no parseable client IP: every network check is blind.",
  score = 3, tags = {"network"},
  when = function(ev, ctx)
    local ip, version = verdict.ip(ev.ip)
    if ip then
      ctx:set("ip_version", version)
      ctx:set("ip_prefix", verdict.ip_prefix(ip, version == 4 and 24 or 48))
    end
    return ip == nil
  end,
}

rule "datacenter_network" {
  description = "The request comes from a hosting provider's network, not an ISP.",
  score = 4, tags = {"network", "hosting"},
  detail = "AS%s %s",
  when = function(ev, ctx)
    local asn = ev.asn or ctx.features.geo_asn
    return asn ~= nil and datacenter:has(tostring(asn)), asn, ctx.features.geo_asn_org or ""
  end,
}

rule "country_unknown" {
  description = "No country is known for the IP (anonymizers, bogons, unrouted space).",
  score = 1, tags = {"network"},
  when = function(ev, ctx) return ctx.features.geo_country == nil and ev.country == nil end,
}

rule "country_mismatch" {
  description = "The country the client claims is not where its IP is.",
  score = 2, tags = {"network", "geo"},
  detail = "claims %s, IP in %s",
  when = function(ev, ctx)
    local claimed, actual = ev.country, ctx.features.geo_country
    return claimed ~= nil and actual ~= nil and claimed ~= actual, claimed, actual
  end,
}

-- Velocity: how many signups come from the same place (counters shared by every worker) -------

rule "network_burst" {
  description = "Many signups from one network (/24, or /48 for IPv6) within the hour.",
  tags = {"velocity"},
  -- The score uses the count this request made (a feature), not a second read: other
  -- signups may have counted in between, on this daemon or, with Redis, on another.
  score = function(ev, ctx) return ctx.features.net_signups_hour > 100 and 10 or 5 end,
  detail = "%d from %s in the last hour, %d in the last minute",
  when = function(ev, ctx)
    local prefix = ctx.features.ip_prefix
    if not prefix then return false end
    local minute, hour = verdict.counter("signup:net:" .. prefix)
    ctx:set("net_signups_hour", hour)
    return hour > 20, hour, prefix, minute
  end,
}

rule "ip_repeat" {
  description = "The same address signs up again and again.",
  score = 3, tags = {"velocity"},
  detail = "%d in the hour, %d in the day",
  when = function(ev)
    local ip = verdict.ip(ev.ip)
    if not ip then return false end
    local _, hour, day = verdict.counter("signup:ip:" .. ip)
    return hour > 5 or day > 20, hour, day
  end,
}

rule "many_usernames_per_ip" {
  description = "One address tries many different user names (account farming).",
  score = 4, tags = {"velocity", "generated"},
  detail = "%d user names",
  when = function(ev)
    local ip = verdict.ip(ev.ip)
    if not ip or type(ev.username) ~= "string" then return false end
    local names = verdict.distinct("signup:names:" .. ip, verdict.lower(ev.username))
    return names > 5, names
  end,
}

rule "network_surge" {
  description = "Signups from one network (its ASN) far above what that network usually sends "
    .. "at this time of day and week: a distributed wave that per-address limits miss.",
  score = 6, tags = {"velocity", "anomaly"},
  detail = "%s",
  -- The hour's count of the ASN goes to an anomaly model of its own (docs/anomaly.md): it
  -- learns the network's usual level and daily and weekly rhythm, so a big network's evening
  -- peak is ordinary and a small one's sudden wave is not. The model raises one alarm for a
  -- wave (it then learns the new level); the label keeps the wave's later signups flagged for
  -- half an hour.
  when = function(ev, ctx)
    local asn = ev.asn or ctx.features.geo_asn
    if not asn then return false end
    asn = tostring(asn)
    local _, hour = verdict.counter("signup:asn:" .. asn)
    ctx:set("asn_signups_hour", hour)
    local a = verdict.anomaly("signup:asn:" .. asn, hour,
                              { what = "signups from AS" .. asn .. " in the hour" })
    if a and a.alarm and a.above then
      verdict.label("signup:surge:" .. asn, 1800)
      return true, a.why
    end
    local left = verdict.labeled("signup:surge:" .. asn)
    if not left then return false end
    return true, string.format("AS%s surging since %d min: %d signups in the hour", asn,
                               (1800 - left) // 60, hour)
  end,
}

-- Campaigns: signups alike from many networks ----------------------------------------------

-- How long the form was open, in doubling buckets (under 2 s, 2 to 4 s, 4 to 8 s, ...): a
-- script waits about as long every time, people do not.
local function timing_bucket(ms)
  if type(ms) ~= "number" or ms < 0 then return "-" end
  local bucket = 0
  while ms >= 2000 and bucket < 8 do
    ms = ms / 2
    bucket = bucket + 1
  end
  return bucket
end

rule "lockstep_signups" {
  description = "Many signups alike (user name shape, email domain, user agent, form timing) " ..
                "from many networks within 20 minutes: a distributed bot wave, which " ..
                "per-network velocity never sees. A classroom or an office signing up " ..
                "together shares one network and has real, varied names: it does not fire.",
  score = 6, tags = {"velocity", "campaign", "automation"},
  detail = "%d signups in 20 min share this shape from %d networks",
  when = function(ev, ctx)
    local group = verdict.campaign("fields", {
      shape  = verdict.shape(ev.username) or "-",
      domain = verdict.email_domain(ev.email) or "-",
      agent  = type(ev.user_agent) == "string" and ev.user_agent or "-",
      timing = timing_bucket(ev.form_ms),
    }, { source = ctx.features.ip_prefix or "-", window = 1200 })
    -- None when state fails open (Redis away) or in a report's run on an unseen shape.
    if group == nil then return false end
    -- Most of the group from distinct networks: proxies rotate, a school's wave does not.
    return group.recent >= 10 and group.sources >= 8 and group.sources * 2 >= group.recent,
           group.recent, group.sources
  end,
}

rule "busy_network_operator" {
  description = "An unusual number of signups from one autonomous system within the hour.",
  score = 2, tags = {"velocity", "trial"},
  detail = "AS%s: %d in the hour",
  when = function(ev, ctx)
    local asn = ev.asn or ctx.features.geo_asn
    local hour = ctx.features.asn_signups_hour -- counted by network_surge
    return asn ~= nil and hour ~= nil and hour > 500, asn, hour
  end,
}

-- Trial rules: run in shadow until their precision is known ---------------------------------

rule "abused_tld_email" {
  description = "Email domains under cheap TLDs that abuse desks see most.",
  score = 3, tags = {"email", "trial"},
  when = email_domain_in(abused_tld),
}

rule "hosting_network_name" {
  description = "The IP's network is named like a hosting company (wider than the ASN list).",
  score = 2, tags = {"network", "hosting", "trial"},
  when = function(ev, ctx) return hosting_name:test(ctx.features.geo_asn_org),
                                  ctx.features.geo_asn_org end,
}

pipeline "signup" {
  description = "New account registration: person, or bot / bulk abuser?",
  stages = {
    stage "gate"     { "internal_network" },
    stage "identity" { "missing_email", "disposable_email", "email_domain_typo",
                       "random_email_local_part", "numbered_username",
                       "keyboard_mash_username", "role_username" },
    stage "client"   { "missing_user_agent", "automation_user_agent", "form_filled_too_fast" },
    plugin "geoip" { country_db = verdict.data_dir .. "/geoip/country.mmdb",
                     asn_db     = verdict.data_dir .. "/geoip/asn.mmdb" },
    stage "network"  { "invalid_ip", "datacenter_network", "country_unknown", "country_mismatch" },
    stage "velocity" { "network_burst", "ip_repeat", "many_usernames_per_ip", "network_surge",
                       "lockstep_signups" },
    stage "trial"    { "abused_tld_email", "hosting_network_name", "busy_network_operator",
                       shadow = true },
  },
  actions = { challenge = 5, block = 10 },
}
