# Undersign tally page, English. Plain text only: the page escapes every message.

site-name = Undersign
lang-nav = Language
home-link = All petitions
page-title = { $title }: verified signatures
no-script = This page needs no scripts and loads nothing from other sites.

index-title = Petitions on this collector
index-intro = Each count is of signatures whose zero-knowledge proofs the collector verified; anyone can check it with the published bundle.
index-empty = No petitions yet.
col-petition = Petition
col-state = State
state-open = open: taking signatures
state-closed = closed: takes no more signatures
state-static = published bundle

count-label = { $count ->
    [one] verified signature
   *[other] verified signatures
}
count-explain = Each signature is a zero-knowledge proof by a distinct member of the registry. Nobody, not even the registrar, can tell who signed.
accepted-one = Counted: members of the registry as of checkpoint { $min }, one signature per member.
accepted-range = Counted: members of the registry at checkpoints { $min } to { $max }.
accepted-open = Counted: members of the registry at checkpoint { $min } or any later one.
double-bound = Up to { $members } may be counted twice: { $members ->
    [one] 1 member was
   *[other] { $members } members were
} removed between checkpoints { $first } and { $last }, and each could sign again with a re-issued identity.

breakdown-heading = Breakdown by category
breakdown-note = Categories as the registrar recorded them at the accepted checkpoint. A signer may withhold a category; those signatures are counted as “not disclosed”.
breakdown-by = By { $slot }
col-value = Value
col-bar = Share
col-count = Signatures
col-percent = Percent
label-undisclosed = not disclosed
label-unset = not set

groups-heading = Disclosed combinations
groups-note = Signatures that disclosed the same values.
groups-nothing = nothing disclosed
groups-more = { $more ->
    [one] and 1 more combination (in the audit report)
   *[other] and { $more } more combinations (in the audit report)
}
col-group = Disclosed values
col-anonymity = Anonymity set
anonymity-note = Anonymity set: the registry members who share a group’s disclosed values; each signer in the group is hidden among them.
anonymity-missing = The anonymity set of each group is printed by the audit when it is given the registry (--registry registry.json).

roots-heading = Registry checkpoints used
col-checkpoint = Checkpoint
col-root = Root

publication-heading = Publication
publication-count = { $publications ->
    [0] Nothing has been published yet.
    [one] Published once so far.
   *[other] Published { $publications } times so far.
}
publication-schedule = New signatures appear here only at a publication, together: at most once every { $every }, and only when at least { $min } are waiting. The organizer may publish earlier or close the petition.
publication-static = This page was made from a bundle that audited fully valid when it was published. It does not change.
every-seconds = { $n ->
    [one] second
   *[other] { $n } seconds
}
every-minutes = { $n ->
    [one] minute
   *[other] { $n } minutes
}
every-hours = { $n ->
    [one] hour
   *[other] { $n } hours
}
every-days = { $n ->
    [one] day
   *[other] { $n } days
}

text-heading = Text of the petition

verify-heading = Check this count yourself
verify-intro = Download the bundle and run the Undersign audit on it. It needs only the bundle and the registrar’s public key, and prints the same count and breakdown.
verify-registrar = Registrar’s public key (compare it with the one the registrar published):
verify-vk = Verifying key hash:
verify-pinned = The audit pins this key hash.
verify-unpinned = Not pinned: whoever made the keys could forge signatures. Compare this hash with the published ceremony transcript and add --vk-hash to the audit.
verify-id = Petition id (compare it with the one the organizers published):
downloads-heading = Files
download-bundle = Bundle: every counted signature
download-petition = Petition file
download-registry = Registry
download-verifying-key = Verifying key
download-tally = Tally (JSON)
download-report = Audit report (JSON)
download-command = Audit command (text)

ceremony-heading = Trusted setup ceremony
ceremony-note = The keys come from a multi-party ceremony whose transcript the publisher verified. They are sound if at least one contributor in each phase kept their secret from everyone. If you contributed, find the hash you published below.
ceremony-phase1 = Phase 1 contributions
ceremony-phase2 = Phase 2 contributions
ceremony-beacon = The last phase-2 contribution is the public beacon { $value }, hashed 2^{ $exponent } times: compare it with the value announced in advance.
download-ceremony-phase1 = Ceremony transcript, phase 1
download-ceremony-phase2 = Ceremony transcript, phase 2

not-found-title = Not found
not-found-text = There is no such petition on this collector.

browser-verify-link = Verify this tally in your browser
browser-verify-title = { $title }: verify in your browser
browser-verify-heading = Verify this tally in your browser
browser-verify-back = Back to the tally page
browser-verify-intro = Your browser downloads the bundle from this site and checks every signature in it (registrar signatures, proofs, duplicates) with a second, independent auditor written in JavaScript from the specification alone. Nothing is sent anywhere. A large bundle takes a while.
browser-verify-noscript = This check needs JavaScript. Without it, run the audit command shown on the tally page.
browser-verify-start = Check again
browser-verify-waiting = Starting the check…
browser-verify-running = Checking signatures:
browser-verify-done = Done.
browser-verify-failed = The check could not run:
browser-verify-agree = Agrees: your browser counted the same signatures and the same breakdown as the published tally.
browser-verify-disagree = Does NOT agree with the published tally: do not trust the published numbers; run the audit command yourself.
browser-verify-caption = Published numbers and your browser’s
browser-verify-published = Published
browser-verify-browser = Your browser
browser-verify-count = Verified signatures
browser-verify-footer = This page runs a script from this site only; it loads nothing from other sites and sends nothing.
