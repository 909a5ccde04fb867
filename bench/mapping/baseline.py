"""The plain baseline: what a short script does, to keep ecoops honest.

1. every registrable domain of the website field (tldextract, its bundled suffix list) joins;
2. then the normalised name (lower case, accents, punctuation and a trailing legal form dropped) and
   the country join;
3. then, within one country, the closest name of the partner's left (rapidfuzz ratio >= 90) whose
   numbers are the same, if that partner record is still free.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict

import pyarrow as pa
from rapidfuzz import fuzz, process

from ecoops.engines.matching import country_codes
from ecoops.engines.matching.domains import offline_suffix_extractor, unusable_domains

LEGAL = re.compile(
    r"( (inc|corp|corporation|co|company|llc|ltd|limited|plc|ag|gmbh|se|sa|sas|nv|bv|ab|publ|oyj|oy|kk|spa|"
    r"srl|as|a s|asa|holding|holdings|group))+$"
)
FUZZY_CUTOFF = 90.0


def _name(name: str | None) -> str:
    plain = unicodedata.normalize("NFKD", (name or "").lower()).encode("ascii", "ignore").decode()
    plain = re.sub(r"[^a-z0-9 ]", " ", plain.replace("&", " and ").replace(".", "").replace("'", ""))
    return LEGAL.sub("", " ".join(plain.split())).strip()


def _domains(website: str | None, unusable: set[str]) -> set[str]:
    extract = offline_suffix_extractor()
    found = set()
    for token in re.split(r"[\s,;|]+", website or ""):
        domain = extract(token).top_domain_under_public_suffix
        if domain and domain not in unusable:
            found.add(domain.lower())
    return found


def plain_match(ours: pa.Table, theirs: pa.Table) -> pa.Table:
    """(our_id, their_id) pairs by domain, then name + country, then fuzzy name within country."""
    unusable = set(unusable_domains().to_pylist())
    sides = []
    for table in (ours, theirs):
        rows = table.to_pylist()
        countries = country_codes(table.column("country")).to_pylist()
        sides.append(
            [
                (r["id"], _name(r["name"]), _domains(r["website"], unusable), c)
                for r, c in zip(rows, countries, strict=False)
            ]
        )
    pairs: set[tuple[str, str]] = set()
    by_domain: dict[str, list[str]] = defaultdict(list)
    for their_id, _, domains, _ in sides[1]:
        for domain in domains:
            by_domain[domain].append(their_id)
    for our_id, _, domains, _ in sides[0]:
        pairs.update((our_id, their_id) for d in domains for their_id in by_domain.get(d, ()))
    matched_ours, matched_theirs = {p[0] for p in pairs}, {p[1] for p in pairs}
    left = [
        [r for r in side if r[0] not in done and r[1]]
        for side, done in zip(sides, (matched_ours, matched_theirs), strict=False)
    ]
    by_name: dict[tuple[str, str | None], list[str]] = defaultdict(list)
    for their_id, name, _, country in left[1]:
        by_name[(name, country)].append(their_id)
    for our_id, name, _, country in left[0]:
        for their_id in by_name.get((name, country), ()):
            pairs.add((our_id, their_id))
            matched_ours.add(our_id)
            matched_theirs.add(their_id)
    # Fuzzy within one country (and first letter, so that a million records stay tractable).
    blocks: dict[tuple[str | None, str], list[list[tuple[str, str]]]] = defaultdict(lambda: [[], []])
    for k, (side, done) in enumerate(zip(left, (matched_ours, matched_theirs), strict=False)):
        for rid, name, _, country in side:
            if rid not in done:
                blocks[(country, name[0])][k].append((rid, name))
    for our_side, their_side in blocks.values():
        if not our_side or not their_side:
            continue
        scores = process.cdist(
            [n for _, n in our_side], [n for _, n in their_side], scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF
        )
        taken: set[int] = set()
        for i, (our_id, our_name) in enumerate(our_side):
            for j in scores[i].argsort()[::-1]:
                if scores[i][j] < FUZZY_CUTOFF:
                    break
                if j not in taken and re.findall(r"\d+", our_name) == re.findall(r"\d+", their_side[j][1]):
                    taken.add(int(j))
                    pairs.add((our_id, their_side[j][0]))
                    break
    return pa.table({"our_id": [p[0] for p in pairs], "their_id": [p[1] for p in pairs]})
