-- Tests of the signup pipeline (signup.lua): `verdict test policies` runs them.
--
-- Every case starts from empty state. The geoip stage reads the real databases in the data
-- directory (`make data`): 80.133.10.20 is Deutsche Telekom in Germany (AS3320), 5.9.1.1
-- Hetzner (AS24940, a hosting network in lists/datacenter_asns.txt), 1.1.1.1 Cloudflare,
-- and 10.1.2.3, a private address, is in no country.

-- A person signing up from a German consumer line: nothing to say about it.
local function signup(changes)
  return merge({
    ip = "80.133.10.20",
    email = "jane.doe@gmail.com",
    username = "janedoe",
    user_agent = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
    country = "DE",
    form_ms = 8200,
  }, changes or {})
end

test "a person signing up is allowed" {
  event = signup(),
  expect = {
    action = "allow",
    score = 0,
    not_fired = { "missing_email", "disposable_email", "missing_user_agent",
                  "country_unknown", "network_burst", "abused_tld_email" },
    features = { geo_country = "DE", geo_asn = 3320, ip_version = 4,
                 ip_prefix = "80.133.10.0/24", net_signups_hour = 1 },
  },
}

test "a bot with a throwaway address is blocked" {
  event = signup {
    ip = "5.9.1.1", email = "k8x2mq9vz7w3@guerrillamail.com", username = "admin_01",
    user_agent = "python-requests/2.31", form_ms = 300,
  },
  expect = {
    action = "block",
    score = { min = 20 },
    fired = { "disposable_email", "random_email_local_part", "role_username",
              "automation_user_agent", "form_filled_too_fast", "datacenter_network" },
    tags = { "disposable", "automation", "hosting" },
  },
}

-- Gate --------------------------------------------------------------------------------------

test "our own network is allowed whatever it sends" {
  event = signup { ip = "192.0.2.10", user_agent = "curl/8.5.0", email = absent },
  expect = {
    action = "allow",
    score = 0,
    stopped_by = "internal_network",
    not_fired = { "automation_user_agent", "missing_email" },
  },
}

test "our own IPv6 network is allowed" {
  event = signup { ip = "2001:db8:1::5" },
  expect = { action = "allow", stopped_by = "internal_network" },
}

test "the network next to ours is checked like any other" {
  event = signup { ip = "192.0.3.10", user_agent = "curl/8.5.0" },
  expect = { not_fired = "internal_network", fired = "automation_user_agent" },
}

-- Identity ----------------------------------------------------------------------------------

test "no email address" {
  event = signup { email = absent },
  expect = { action = "allow", score = 4, fired = "missing_email", tags = "email" },
}

test "an email address without a domain counts as none" {
  event = signup { email = "jane.doe" },
  expect = { fired = "missing_email" },
}

test "a throwaway mailbox is challenged" {
  event = signup { email = "jane@mailinator.com" },
  expect = { action = "challenge", score = 6, fired = "disposable_email",
             tags = { "email", "disposable" } },
}

test "a subdomain of a throwaway provider is one too" {
  event = signup { email = "jane@eu.yopmail.com" },
  expect = { fired = "disposable_email" },
}

test "a look-alike of a throwaway provider is not one" {
  event = signup { email = "jane@mailinator.company.com" },
  expect = { not_fired = "disposable_email" },
}

test "a misspelt big provider scores a little" {
  event = signup { email = "jane.doe@gmial.com" },
  expect = { action = "allow", score = 2, fired = "email_domain_typo",
             not_fired = "disposable_email" },
}

test "a machine-made mailbox name" {
  event = signup { email = "k8x2mq9vz7w3@gmail.com" },
  expect = { fired = "random_email_local_part", score = 3 },
}

test "a long mailbox name with two digits is a person's" {
  event = signup { email = "jane.doe.smith.84@gmail.com" },
  expect = { not_fired = "random_email_local_part" },
}

test "a short random mailbox name is let through" {
  event = signup { email = "x8k2m9q@gmail.com" },
  expect = { not_fired = "random_email_local_part" },
}

test "a user name ending in four digits" {
  event = signup { username = "janedoe2024" },
  expect = { fired = "numbered_username", score = 2 },
}

test "three digits are not enough" {
  event = signup { username = "janedoe123" },
  expect = { not_fired = "numbered_username" },
}

test "a keyboard mash" {
  event = signup { username = "xkcdfgh" },
  expect = { fired = "keyboard_mash_username", score = 3 },
}

test "five consonants in a row are a name" {
  event = signup { username = "lindstrom" },
  expect = { not_fired = "keyboard_mash_username" },
}

test "staff role names" {
  event = signup { username = "Support_2" },
  expect = { action = "challenge", fired = "role_username", tags = "impersonation" },
}

test "a name that starts like a role is not one" {
  event = signup { username = "admiral" },
  expect = { not_fired = "role_username" },
}

-- Client ------------------------------------------------------------------------------------

test "no user agent" {
  event = signup { user_agent = absent },
  expect = { score = 4, fired = "missing_user_agent", tags = { "client", "automation" } },
}

test "a blank user agent counts as none" {
  event = signup { user_agent = "   " },
  expect = { fired = "missing_user_agent", not_fired = "automation_user_agent" },
}

test "an HTTP library" {
  event = signup { user_agent = "python-requests/2.31" },
  expect = { action = "challenge", score = 6, fired = "automation_user_agent" },
}

test "a headless browser" {
  event = signup { user_agent = "Mozilla/5.0 HeadlessChrome/120.0.0.0" },
  expect = { fired = "automation_user_agent" },
}

test "a form filled in 1.2 seconds" {
  event = signup { form_ms = 1200 },
  expect = { action = "challenge", score = 5, fired = "form_filled_too_fast" },
}

test "a form filled in exactly 1.5 seconds is fast enough for a person" {
  event = signup { form_ms = 1500 },
  expect = { not_fired = "form_filled_too_fast" },
}

test "a negative form time is a broken client, not a bot" {
  event = signup { form_ms = -5 },
  expect = { not_fired = "form_filled_too_fast" },
}

-- Network -----------------------------------------------------------------------------------

test "no usable IP address" {
  event = signup { ip = "not-an-address" },
  expect = {
    fired = "invalid_ip",
    not_fired = { "network_burst", "ip_repeat", "many_usernames_per_ip" },
    features = { ip_prefix = absent, geo_country = absent },
  },
}

test "an IPv6 address is grouped by its /48" {
  event = signup { ip = "2a01:4f8::1", country = absent },
  expect = { not_fired = "invalid_ip", features = { ip_version = 6, ip_prefix = "2a01:4f8::/48" } },
}

test "a hosting network by the ASN the edge gives" {
  event = signup { asn = 20473 },
  expect = { fired = "datacenter_network", score = 4, tags = "hosting" },
}

test "a hosting network by the ASN geoip finds" {
  event = signup { ip = "5.9.1.1" },
  expect = { fired = "datacenter_network", features = { geo_asn = 24940 } },
}

test "a consumer network is no hosting network" {
  event = signup { asn = 3320 },
  expect = { not_fired = "datacenter_network" },
}

test "no country at all" {
  event = signup { ip = "10.1.2.3", country = absent },
  expect = { fired = "country_unknown", score = 1, features = { geo_country = absent } },
}

test "the claimed country stands in when geoip knows none" {
  event = signup { ip = "10.1.2.3", country = "DE" },
  expect = { not_fired = { "country_unknown", "country_mismatch" } },
}

test "a claimed country the IP is not in" {
  event = signup { country = "FR" },
  expect = { fired = "country_mismatch", score = 2, tags = "geo" },
}

-- Velocity ----------------------------------------------------------------------------------

test "a burst from one network within the hour" {
  event = signup(),
  counters = { ["signup:net:80.133.10.0/24"] = { hour = 20 } },
  expect = { action = "challenge", score = 5, fired = "network_burst",
             features = { net_signups_hour = 21 } },
}

test "twenty signups from a network in the hour are not yet a burst" {
  event = signup(),
  counters = { ["signup:net:80.133.10.0/24"] = { hour = 19 } },
  expect = { not_fired = "network_burst", features = { net_signups_hour = 20 } },
}

test "a burst of over a hundred blocks" {
  event = signup(),
  counters = { ["signup:net:80.133.10.0/24"] = { minute = 40, hour = 100 } },
  expect = { action = "block", score = 10, fired = "network_burst" },
}

test "yesterday's signups are no burst" {
  event = signup(),
  counters = { ["signup:net:80.133.10.0/24"] = { day = 300 } },
  expect = { not_fired = "network_burst" },
}

-- Five signups from the address just before this one, in the same minute.
local five = {}
for i = 1, 5 do
  five[i] = signup()
end

test "the sixth signup from one address within the hour" {
  event = signup(),
  before = five,
  expect = { fired = "ip_repeat", not_fired = "many_usernames_per_ip", score = 3 },
}

test "the fifth is not yet a repeat" {
  event = signup(),
  before = { five[1], five[2], five[3], five[4] },
  expect = { not_fired = "ip_repeat" },
}

test "many signups from one address over the day" {
  event = signup(),
  counters = { ["signup:ip:80.133.10.20"] = { day = 20 } },
  expect = { fired = "ip_repeat" },
}

test "one address trying a sixth user name" {
  event = signup(),
  distinct = { ["signup:names:80.133.10.20"] = 5 },
  expect = { fired = "many_usernames_per_ip", score = 4 },
}

test "the same user name again is not a new one" {
  event = signup(),
  distinct = { ["signup:names:80.133.10.20"] = { "jane1", "jane2", "jane3", "jane4", "janedoe" } },
  expect = { not_fired = "many_usernames_per_ip" },
}

-- Campaigns: lockstep signups ----------------------------------------------------------------

-- A bot wave: templated names ("emma_wilson42": letters, underscore, letters, two digits), one
-- mail provider, one user agent, the same scripted wait, each signup from another /24 of a
-- residential proxy pool. Nothing in one of them looks wrong.
local bot_names = { "emma_wilson", "liam_jones", "olivia_brown", "noah_davis", "ava_miller",
                    "lucas_moore", "mia_taylor", "ethan_clark", "sofia_lewis", "mason_hall",
                    "chloe_young", "logan_king", "ella_wright", "jack_scott" }
local function bot(i)
  local name = bot_names[(i - 1) % #bot_names + 1] .. tostring(10 + i)
  return signup {
    ip = "80.133." .. tostring(20 + i) .. ".20", username = name,
    email = verdict.lower(name:sub(1, 1)) .. name:sub(2) .. "@outlook.com",
    user_agent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
    form_ms = 3100 + i * 13,
  }
end
local wave = {}
for i = 1, 12 do wave[i] = bot(i) end

test "a templated wave from many networks is challenged" {
  event = bot(13),
  before = wave,
  expect = {
    action = "challenge",
    fired = "lockstep_signups",
    not_fired = { "network_burst", "ip_repeat", "numbered_username" },
  },
}

test "the first of such a wave passes: one signup is no campaign" {
  event = bot(1),
  expect = { action = "allow", score = 0, not_fired = "lockstep_signups" },
}

test "the same wave from one network is left to per-network velocity" {
  event = bot(13),
  before = (function()
    local same = {}
    for i = 1, 12 do same[i] = merge(bot(i), { ip = "80.133.99." .. tostring(i) }) end
    return same
  end)(),
  expect = { not_fired = "lockstep_signups" },
}

-- A classroom signing up together: one school network, the school's domain, the same
-- browser on every machine, but real names of every shape and people typing at their pace.
local pupils = { "lena.m", "tobi_k", "Mia2009", "jonas", "emilyrose", "Ben.Schulz",
                 "hannah-lu", "noah07", "Lea_S", "paul.w", "sophie.k", "finn", "marie99",
                 "Luis.B", "amelie_h", "elias", "ida.r", "TheoF" }
local function pupil(i)
  return signup {
    ip = "80.133.77." .. tostring(10 + i), username = pupils[i],
    email = pupils[i] .. "@gymnasium-nord.de",
    user_agent = "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
    form_ms = 9000 + i * 2311,
  }
end

test "a classroom signing up together is allowed" {
  event = pupil(18),
  before = (function()
    local class = {}
    for i = 1, 17 do class[i] = pupil(i) end
    return class
  end)(),
  expect = { action = "allow", not_fired = { "lockstep_signups", "network_burst" } },
}

-- Trial (shadow) ----------------------------------------------------------------------------

test "a cheap TLD is trialled in shadow: the action stays" {
  event = signup { email = "jane@example.xyz", user_agent = absent },
  expect = {
    action = "allow",
    score = 4,
    fired = { "abused_tld_email", "missing_user_agent" },
    shadow_action = "challenge",
    not_tags = "trial",
  },
}

test "a common TLD is no trial hit" {
  event = signup { email = "jane@example.com" },
  expect = { not_fired = "abused_tld_email", shadow_action = "allow" },
}

test "a network named like a cloud" {
  event = signup { ip = "1.1.1.1", country = "AU" },
  expect = { action = "allow", fired = "hosting_network_name", not_fired = "datacenter_network" },
}

test "a busy network operator" {
  event = signup(),
  counters = { ["signup:asn:3320"] = { hour = 500 } },
  expect = { action = "allow", fired = "busy_network_operator", shadow_action = "allow" },
}

test "five hundred signups an hour from an operator are normal" {
  event = signup(),
  counters = { ["signup:asn:3320"] = { hour = 499 } },
  expect = { not_fired = "busy_network_operator" },
}

-- Lists -------------------------------------------------------------------------------------

test "a provider added to the disposable list" {
  event = signup { email = "jane@burner.example" },
  lists = { ["lists/disposable_domains.txt"] = { add = { "burner.example" } } },
  expect = { fired = "disposable_email" },
}

test "an office network taken off the internal list" {
  event = signup { ip = "192.0.2.10" },
  lists = { ["lists/internal_networks.txt"] = { replace = { "198.51.100.0/24" } } },
  expect = { not_fired = "internal_network", action = "allow" },
}

-- A network's surge against its own rhythm ---------------------------------------------------
--
-- Fourteen days of ordinary signups from one network (AS64500): about 30 an hour in the
-- daytime (UTC), 6 at night, half that at weekends, each from another address. Then, at 14:00
-- on a Monday, either an ordinary afternoon or 150 signups within ten minutes: a wave that
-- stays under every per-address and per-/24 limit.

local function from_network(i)
  return signup { ip = string.format("10.%d.%d.%d", i % 200, (i // 200) % 250, i % 250 + 1),
                  asn = 64500, username = "user" .. i, email = "user" .. i .. "@example.net" }
end

-- The events before a case at 14:00 UTC on a Monday, going back `days` days, oldest first.
local function history(days)
  local events, i, seed = {}, 0, 7
  for t = days * 86400, 600, -60 do                     -- one chance a minute
    local hour = ((14 * 3600 - t) % 86400) // 3600      -- UTC hour of that minute
    local weekday = ((days * 86400 - t) // 86400 + 7 - days % 7) % 7 -- 0: the Monday of the case
    local rate = (hour >= 8 and hour < 20) and 30 or 6  -- signups an hour
    if weekday >= 5 then rate = rate / 2 end
    seed = (seed * 1103515245 + 12345) % 2147483648
    if seed % 60 < rate then
      i = i + 1
      events[#events + 1] = ago(t, from_network(i))
    end
  end
  return events, i
end

local ORDINARY, N = history(14)
local WAVE = {}
for k = 1, #ORDINARY do WAVE[k] = ORDINARY[k] end
for k = 1, 150 do WAVE[#WAVE + 1] = ago(600 - k * 4, from_network(N + k)) end

test "a network's wave of signups, far above its usual afternoon" {
  time = "2026-03-16T14:00:00Z",
  event = from_network(N + 151),
  before = WAVE,
  expect = { fired = "network_surge", tags = "anomaly",
             not_fired = { "network_burst", "ip_repeat" } },
}

test "an ordinary afternoon of the same network" {
  time = "2026-03-16T14:00:00Z",
  event = from_network(N + 1),
  before = ORDINARY,
  expect = { not_fired = "network_surge" },
}
