-- Tests of the mail pipeline (mail.lua): `verdict test policies` runs them.
--
-- The textclf and gbdt stages score every message with the models `make data` trains into
-- the data directory; their points join the rules'. The cases below check the rules by name
-- and leave the models room: an action is expected only where the rules (or a stop) settle
-- it whatever the models say within reason.

local base = {
  from = "Alice Example <alice@example.org>",
  to = "bob@example.net",
  subject = "Lunch on Thursday?",
  headers = {
    ["Message-ID"] = "<20250303100000.4711@mail.example.org>",
    Date = "Mon, 3 Mar 2025 10:00:00 +0000",
    ["Content-Type"] = "text/plain; charset=utf-8",
  },
  body = "Hi Bob,\n\nare you free for lunch on Thursday? The usual place at noon.\n\nAlice\n",
}

-- A message like base with changes; headers are changed one by one (absent removes one). The
-- raw message the text classifier reads is made from the fields, headers in name order.
local function mail(changes)
  changes = changes or {}
  local m = merge(base, changes)
  m.headers = merge(base.headers, changes.headers or {})
  local names, lines = {}, { "From: " .. m.from, "To: " .. m.to }
  for name in pairs(m.headers) do names[#names + 1] = name end
  table.sort(names)
  if m.subject then lines[#lines + 1] = "Subject: " .. m.subject end
  for _, name in ipairs(names) do lines[#lines + 1] = name .. ": " .. m.headers[name] end
  m.raw = table.concat(lines, "\r\n") .. "\r\n\r\n" .. (m.body or "")
  return m
end

local prize = mail {
  from = "\"service@paypal.com\" <alert@secure-pay.xyz>",
  subject = "URGENT: YOU HAVE WON A PRIZE",
  headers = { ["Message-ID"] = absent, Date = absent, ["Content-Type"] = "text/html",
              ["Authentication-Results"] = "mx.example.net; spf=fail smtp.mailfrom=secure-pay.xyz" },
  body = "<p>Claim your lottery prize via Western Union today: click here http://bit.ly/abc</p>",
}

test "a note from a colleague is delivered" {
  event = mail(),
  expect = {
    action = "deliver",
    score = { max = 0 },
    not_fired = { "missing_message_id", "missing_date", "html_only", "money_subject" },
    features = { textclf_p = { max = 0.5 }, msg_has_message_id = 1, links = 0 },
  },
}

test "a prize scam is rejected" {
  event = prize,
  expect = {
    action = "reject",
    score = { min = 12 },
    fired = { "authentication_failed", "missing_message_id", "missing_date",
              "display_name_spoof", "shouting_subject", "money_subject", "advance_fee_body",
              "click_here", "html_only", "url_shortener" },
    tags = { "auth", "phishing", "scam" },
    features = { textclf_p = { min = 0.5 } },
  },
}

-- Gate --------------------------------------------------------------------------------------

test "our own systems' mail skips the content checks" {
  event = mail { from = "Alerts <noreply@alerts.example.net>", subject = "FREE CASH PRIZE NOW",
                 headers = { ["Message-ID"] = absent } },
  expect = {
    action = "deliver",
    stopped_by = "trusted_sender",
    not_fired = { "money_subject", "missing_message_id" },
    features = { textclf_p = absent },
  },
}

test "a trusted domain that fails authentication is forged" {
  event = mail { from = "Alerts <noreply@example.com>",
                 headers = { ["Authentication-Results"] = "mx.example.net; dkim=fail" } },
  expect = { not_fired = "trusted_sender", fired = "authentication_failed" },
}

-- Headers -----------------------------------------------------------------------------------

test "authentication that passed" {
  event = mail { headers = { ["Authentication-Results"] = "mx.example.net; spf=pass; dkim=pass" } },
  expect = { not_fired = "authentication_failed" },
}

test "a soft SPF failure counts" {
  event = mail { headers = { ["authentication-results"] = "mx.example.net; spf=softfail" } },
  expect = { fired = "authentication_failed", tags = "auth" },
}

test "no Message-ID and no Date" {
  event = mail { headers = { ["Message-ID"] = absent, Date = absent } },
  expect = { fired = { "missing_message_id", "missing_date" } },
}

test "header names in any letter case" {
  event = mail { headers = { ["Message-ID"] = absent, ["message-id"] = "<1@example.org>",
                             Date = absent, DATE = "Mon, 3 Mar 2025 10:00:00 +0000" } },
  expect = { not_fired = { "missing_message_id", "missing_date" } },
}

test "a display name that shows another address" {
  event = mail { from = "\"service@paypal.com\" <alert@secure-pay.xyz>" },
  expect = { fired = "display_name_spoof", tags = "phishing" },
}

test "a display name that shows the sender's own address" {
  event = mail { from = "\"alice@example.org\" <alice@example.org>" },
  expect = { not_fired = "display_name_spoof" },
}

test "replies that go elsewhere" {
  event = mail { headers = { ["Reply-To"] = "Claims <claims@payout-desk.biz>" } },
  expect = { fired = "reply_to_elsewhere" },
}

test "replies to the sender's own domain" {
  event = mail { headers = { ["Reply-To"] = "Alice <alice@example.org>" } },
  expect = { not_fired = "reply_to_elsewhere" },
}

test "a throwaway sender" {
  event = mail { from = "Jo <jo@mailinator.com>" },
  expect = { fired = "disposable_sender", tags = "disposable" },
}

test "a newsletter one can unsubscribe from" {
  event = mail { headers = { ["List-Unsubscribe"] = "<https://news.example.org/u/1>" } },
  expect = { fired = "has_list_unsubscribe", tags = "bulk" },
}

-- Subject -----------------------------------------------------------------------------------

test "no subject" {
  event = mail { subject = absent },
  expect = { fired = "empty_subject", not_fired = "shouting_subject" },
}

test "a blank subject" {
  event = mail { subject = "   " },
  expect = { fired = "empty_subject" },
}

test "a shouted subject" {
  event = mail { subject = "IMPORTANT NOTICE ABOUT YOUR ACCOUNT" },
  expect = { fired = "shouting_subject", not_fired = "empty_subject" },
}

test "a short word in capitals is no shouting" {
  event = mail { subject = "FYI: notes" },
  expect = { not_fired = "shouting_subject" },
}

test "prize words in the subject" {
  event = mail { subject = "You have won a free cruise" },
  expect = { fired = "money_subject", tags = "scam" },
}

test "an ordinary subject has no prize words" {
  event = mail { subject = "Minutes of the freedom of speech panel" },
  expect = { not_fired = "money_subject" },
}

-- Body --------------------------------------------------------------------------------------

test "advance-fee vocabulary" {
  event = mail { body = "As the next of kin you are the beneficiary of the estate." },
  expect = { fired = "advance_fee_body", tags = "scam" },
}

test "pharmacy spam" {
  event = mail { body = "Cheap viagra and cialis, no prescription needed." },
  expect = { fired = "pharma_body", tags = "pharma" },
}

test "a pharmacist is no pharmacy spam" {
  event = mail { body = "My pharmacist says the new prescription is ready." },
  expect = { not_fired = "pharma_body" },
}

local function links(n)
  local parts = {}
  for i = 1, n do parts[i] = "https://docs.example.org/page/" .. i end
  return "Reading list:\n" .. table.concat(parts, "\n")
end

test "more than ten links" {
  event = mail { body = links(11) },
  expect = { fired = "link_heavy_body", features = { links = 11 } },
}

test "ten links are a reading list" {
  event = mail { body = links(10) },
  expect = { not_fired = "link_heavy_body", features = { links = 10 } },
}

test "text hidden with CSS" {
  event = mail { body = "<p>Hello</p><div style=\"display: none\">viagra casino</div>",
                 headers = { ["Content-Type"] = "text/html" } },
  expect = { fired = { "hidden_html_text", "html_only" }, tags = "evasion" },
}

test "visible HTML hides nothing" {
  event = mail { body = "<p style=\"font-size: 14px\">Hello</p>",
                 headers = { ["Content-Type"] = "text/html" } },
  expect = { not_fired = "hidden_html_text", fired = "html_only" },
}

test "click here" {
  event = mail { body = "To confirm, click the link below." },
  expect = { fired = "click_here" },
}

test "a message with a text alternative is not HTML-only" {
  event = mail { headers = { ["Content-Type"] = "multipart/alternative; boundary=x" } },
  expect = { not_fired = "html_only" },
}

-- Campaigns ---------------------------------------------------------------------------------

-- Copy i of a parcel-fee campaign: the same text with the name, code and fee changed, from
-- another sender each time. spammy: the raw message the classifier reads is a blatant one (the
-- campaign is filed by the body, the classifier reads the raw message).
local function parcel(i, spammy, from)
  local m = mail {
    from = from or ("Delivery <noreply" .. i .. "@parcel" .. i .. ".example>"),
    subject = "Your parcel is waiting",
    body = "Dear " .. ({ "Ana", "Ben", "Cem", "Dee" })[i % 4 + 1] .. ", your parcel "
        .. (1000 + i * 7) .. " is held at the depot. Pay the customs fee of " .. (2 + i % 5)
        .. " euros within two days at https://parcel-fee.example/t/" .. (1000 + i * 7)
        .. " or it goes back to the sender. Kind regards, the delivery team.",
  }
  if spammy then m.raw = prize.raw end
  return m
end

local function reports(label, n, ...)
  local out, reporters = {}, { ... }
  for i = 1, n do
    out[#out + 1] = { label = label, event = parcel(100 + i), reporter = reporters[i] }
  end
  return out
end

test "a copy of a campaign two people reported" {
  before = { parcel(1), parcel(2) },
  reports = reports("bad", 2, "ann", "ben"),
  event = parcel(3),
  expect = { fired = "reported_campaign", tags = "reported",
             features = { campaign_sources = 3, campaign_reported = 2, campaign_reporters = 2 } },
}

test "one person reporting three times is not enough" {
  before = { parcel(1), parcel(2) },
  reports = reports("bad", 3, "ann", "ann", "ann"),
  event = parcel(3),
  expect = { not_fired = "reported_campaign" },
}

test "rescued from the spam folder by more people than reported it" {
  before = { parcel(1), parcel(2) },
  reports = {
    { label = "bad", event = parcel(101), reporter = "ann" },
    { label = "bad", event = parcel(102), reporter = "ben" },
    { label = "bad", event = parcel(103), reporter = "cem" },
    { label = "good", event = parcel(104), reporter = "dee", weight = 2 },
  },
  event = parcel(3),
  expect = { not_fired = "reported_campaign",
             features = { campaign_reported = 1, campaign_reporters = 3 } },
}

test "one person's reports and another's rescue do not make two people" {
  before = { parcel(1), parcel(2) },
  reports = {
    { label = "bad", event = parcel(101), reporter = "ann" },
    { label = "bad", event = parcel(102), reporter = "ann" },
    { label = "bad", event = parcel(103), reporter = "ann" },
    { label = "good", event = parcel(104), reporter = "ben" },
  },
  event = parcel(3),
  expect = { not_fired = "reported_campaign",
             features = { campaign_reported = 2, campaign_reporters = 1 } },
}

test "a single report is not enough" {
  before = { parcel(1), parcel(2) },
  reports = reports("bad", 1, "ann"),
  event = parcel(3),
  expect = { not_fired = "reported_campaign" },
}

test "a copy the classifier let through, of a campaign it finds spam-like" {
  before = { parcel(1, true), parcel(2, true), parcel(3, true), parcel(4, true) },
  event = parcel(5),
  expect = { fired = "spam_campaign_member",
             features = { campaign_recent = 5, campaign_spammy = 4, textclf_p = { max = 0.9 } } },
}

test "a newsletter's copies come from one sender" {
  before = { parcel(1, true, "News <news@shop.example>"), parcel(2, true, "News <news@shop.example>"),
             parcel(3, true, "News <news@shop.example>"), parcel(4, true, "News <news@shop.example>") },
  event = parcel(5, false, "News <news@shop.example>"),
  expect = { not_fired = "spam_campaign_member", features = { campaign_sources = 1 } },
}

test "a campaign the classifier mostly lets through" {
  before = { parcel(1, true), parcel(2), parcel(3), parcel(4) },
  event = parcel(5),
  expect = { not_fired = "spam_campaign_member", features = { campaign_spammy = 1 } },
}

-- Trial (shadow) ----------------------------------------------------------------------------

test "a shortened link is trialled in shadow" {
  event = mail { body = "The slides: https://bit.ly/3xYz" },
  expect = { action = "deliver", fired = "url_shortener", not_tags = "trial" },
}

test "a full link is no shortened one" {
  event = mail { body = "The slides: https://slides.example.org/3xYz" },
  expect = { not_fired = "url_shortener" },
}
