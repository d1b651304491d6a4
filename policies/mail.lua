-- mail: is this inbound message spam?
--
-- Event fields:
--   from     the From header as written ("PayPal <service@paypal.com>")
--   to       the envelope recipient
--   subject  the decoded Subject
--   headers  map of header name -> value (or array of values when repeated), any case
--   body     the message body as text (decoded, HTML included as sent)
--
--   raw      the whole message as received (RFC 5322 bytes), for the text classifier
--
-- The textclf stage scores the whole message with the model `make data` trains on the
-- SpamAssassin corpus (docs/textclf-features.md). Its log-odds join the rules' points as they
-- are (weight 1): a ham-looking message starts well below zero, a spam-looking one above, and
-- the rules move it from there. The "style" stage, a gbdt over the message statistics textclf
-- also computes (structure, capitals, links, headers), adds half its own log-odds: the weight
-- was chosen on the training mail, out of fold (docs/ml.md has the figures).
--
-- Total score: 5 or more goes to the junk folder, 12 or more is rejected at SMTP time.

local trusted = verdict.list.domains "lists/trusted_senders.txt"

local address      = verdict.re([[<?([^<>\s@]+@([^<>\s@]+?))>?\s*$]])
local display_mail = verdict.re([[@([a-z0-9.-]+\.[a-z]{2,})[^<]*<]], "i")
local money_words  = verdict.re([[\b(free|winner|you have won|cash|prize|million|urgent|act now|limited time|100% free|risk[- ]free|\$\d[\d,]*)\b]], "i")
local scam_body    = verdict.re([[\b(wire transfer|western union|moneygram|bank account details|next of kin|inheritance|beneficiary|lottery|compensation fund)\b]], "i")
local pharma       = verdict.re([[\b(viagra|cialis|levitra|pharmacy|weight loss pills|diet pills|no prescription)\b]], "i")
local link         = verdict.re([[https?://]], "i")
local shortener    = verdict.re([[https?://(bit\.ly|tinyurl\.com|goo\.gl|t\.co|ow\.ly|is\.gd|buff\.ly|cutt\.ly|rb\.gy)/]], "i")
local hidden_text  = verdict.re([[(display\s*:\s*none|font-size\s*:\s*[01](px)?\s*[;"]|visibility\s*:\s*hidden)]], "i")
local auth_fail    = verdict.re([[\b(spf=(fail|softfail)|dkim=fail|dmarc=fail)\b]], "i")
local click_here   = verdict.re([[\b(click here|click below|click the link)\b]], "i")
local html_part    = verdict.re([[^\s*text/html]], "i")

-- The domain of an address inside a From/Reply-To header, lower case.
local function header_domain(value)
  local _, domain = address:match(value)
  return verdict.lower(domain)
end

rule "trusted_sender" {
  description = "Mail from our own systems is delivered without content checks.",
  stop = "deliver",
  when = function(ev)
    local domain = header_domain(ev.from)
    return trusted:has(domain) and not auth_fail:test(verdict.header(ev, "Authentication-Results")), domain
  end,
}

-- Headers -----------------------------------------------------------------------------------

rule "authentication_failed" {
  description = "SPF, DKIM or DMARC failed: the sender is probably forged.",
  score = 4, tags = {"headers", "auth"},
  when = function(ev)
    local results = verdict.header(ev, "Authentication-Results")
    return auth_fail:test(results), auth_fail:match(results)
  end,
}

rule "missing_message_id" {
  description = "Every real mail client sets Message-ID; bulk scripts often forget.",
  score = 2, tags = {"headers"},
  when = function(ev) return verdict.header(ev, "Message-ID") == nil end,
}

rule "missing_date" {
  description = "No Date header.",
  score = 1.5, tags = {"headers"},
  when = function(ev) return verdict.header(ev, "Date") == nil end,
}

rule "display_name_spoof" {
  description = "The display name shows one address, the real address is another domain.",
  score = 3, tags = {"headers", "phishing"},
  detail = "shows %s, sent from %s",
  when = function(ev)
    local shown = display_mail:match(ev.from)
    local actual = header_domain(ev.from)
    return shown ~= nil and actual ~= nil and verdict.lower(shown) ~= actual, shown, actual
  end,
}

rule "reply_to_elsewhere" {
  description = "Replies go to a different domain than the sender's.",
  score = 1.5, tags = {"headers", "phishing"},
  when = function(ev)
    local reply = header_domain(verdict.header(ev, "Reply-To"))
    local from = header_domain(ev.from)
    return reply ~= nil and from ~= nil and reply ~= from, reply
  end,
}

rule "disposable_sender" {
  description = "Sent from a throwaway mailbox provider.",
  score = 3, tags = {"headers", "disposable"},
  when = function(ev)
    local domain = header_domain(ev.from)
    return disposable_domains:has(domain), domain
  end,
}

rule "has_list_unsubscribe" {
  description = "Newsletters with a working unsubscribe header are mostly legitimate bulk mail.",
  score = -1, tags = {"headers", "bulk"},
  when = function(ev) return verdict.header(ev, "List-Unsubscribe") ~= nil end,
}

-- Subject -----------------------------------------------------------------------------------

rule "empty_subject" {
  description = "No subject at all.",
  score = 1, tags = {"subject"},
  when = function(ev) return ev.subject == nil or verdict.trim(ev.subject) == "" end,
}

rule "shouting_subject" {
  description = "Subject in capitals (at least ten letters, 80% upper case).",
  score = 2, tags = {"subject"},
  when = function(ev)
    local letters = verdict.count(ev.subject, "alpha")
    return letters >= 10 and verdict.count(ev.subject, "upper") >= 0.8 * letters
  end,
}

rule "money_subject" {
  description = "Prize, cash and urgency words in the subject.",
  score = 3, tags = {"subject", "scam"},
  when = field_matches("subject", money_words),
}

-- Body --------------------------------------------------------------------------------------

rule "advance_fee_body" {
  description = "Advance-fee fraud vocabulary: transfers, inheritances, lotteries.",
  score = 4, tags = {"body", "scam"},
  when = field_matches("body", scam_body),
}

rule "pharma_body" {
  description = "Pharmacy spam vocabulary.",
  score = 4, tags = {"body", "pharma"},
  when = field_matches("body", pharma),
}

rule "link_heavy_body" {
  description = "More than ten links.",
  score = 2, tags = {"body", "links"},
  detail = "%d links",
  when = function(ev, ctx)
    local links = link:count(ev.body)
    ctx:set("links", links)
    return links > 10, links
  end,
}

rule "hidden_html_text" {
  description = "Text hidden with CSS, a classic filter-evasion trick.",
  score = 2.5, tags = {"body", "evasion"},
  when = field_matches("body", hidden_text),
}

rule "click_here" {
  description = "'Click here' calls to action.",
  score = 1, tags = {"body"},
  when = field_matches("body", click_here),
}

rule "html_only" {
  description = "HTML-only message without a text alternative.",
  score = 0.5, tags = {"body"},
  when = function(ev) return html_part:test(verdict.header(ev, "Content-Type")) end,
}

-- Campaigns ---------------------------------------------------------------------------------
-- Near-copies of one text from many senders (docs/campaigns.md). The first rule files the
-- message into its campaign and keeps what the others need as features; the campaign is read
-- once per message (a second read would count the message twice).

local SPAMMY = 0.9 -- the text classifier's probability from which a copy counts as spam-like
local REPORTED = 2 -- people (and net report weight) that make a campaign reported spam

rule "reported_campaign" {
  description = "A copy of a campaign that at least two people reported as spam, by a "
             .. "weight of two more than those who said it was not.",
  score = 6, tags = {"campaign", "reported"},
  detail = "%d copies, reported spam by %d people",
  when = function(ev, ctx)
    local sender = address:match(ev.from)
    local c = verdict.campaign("text", ev.body, { source = verdict.lower(sender or ev.from) })
    if not c then return false end
    ctx:set("campaign_id", c.id)
    ctx:set("campaign_recent", c.recent)
    ctx:set("campaign_sources", c.sources)
    ctx:set("campaign_reported", c.bad - c.good) -- report weights: spam minus not spam
    ctx:set("campaign_reporters", c.reporters)
    -- How many of the campaign's copies today the text classifier found spam-like.
    local p = ctx.features.textclf_p or 0
    local _, _, today = verdict.counter("mail:campaign:spammy:" .. c.id, p >= SPAMMY and 1 or 0)
    ctx:set("campaign_spammy", today)
    return c.bad - c.good >= REPORTED and c.reporters >= REPORTED, c.size, c.reporters
  end,
}

rule "spam_campaign_member" {
  description = "A copy the classifier let through, of a campaign from many senders whose "
             .. "copies it mostly finds spam-like (newsletters come from one sender).",
  score = 4, tags = {"campaign"},
  detail = "%d of %d copies today spam-like, from %d senders",
  when = function(ev, ctx)
    local f = ctx.features
    local recent, spammy = f.campaign_recent, f.campaign_spammy
    if not recent or recent < 5 or f.campaign_sources < 3 then return false end
    return (f.textclf_p or 0) < SPAMMY and spammy >= 0.6 * recent, spammy, recent,
           f.campaign_sources
  end,
}

-- Trial -------------------------------------------------------------------------------------

rule "url_shortener" {
  description = "Links hidden behind URL shorteners.",
  score = 2, tags = {"body", "links", "trial"},
  when = field_matches("body", shortener),
}

pipeline "mail" {
  description = "Inbound mail: deliver, junk or reject?",
  stages = {
    stage "gate"    { "trusted_sender" },
    plugin "textclf" { model = verdict.data_dir .. "/models/textclf.bin", weight = 1,
                       scale = "log_odds", statistics = true },
    plugin "gbdt" { name = "style", model = verdict.data_dir .. "/models/mail-gbdt.json",
                    weight = 0.5, scale = "margin" },
    stage "headers" { "authentication_failed", "missing_message_id", "missing_date",
                      "display_name_spoof", "reply_to_elsewhere", "disposable_sender",
                      "has_list_unsubscribe" },
    stage "subject" { "empty_subject", "shouting_subject", "money_subject" },
    stage "body"    { "advance_fee_body", "pharma_body", "link_heavy_body", "hidden_html_text",
                      "click_here", "html_only" },
    stage "campaign" { "reported_campaign", "spam_campaign_member" },
    stage "trial"   { "url_shortener", shadow = true },
  },
  actions = { junk = 5, reject = 12 },
  default = "deliver",
}
