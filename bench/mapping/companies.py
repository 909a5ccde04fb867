"""A second benchmark data set from real company names: the stock-index members that `pytickersymbols`
ships (about 1,800 companies of 20 indices, with the country and website their Wikipedia infobox gives),
with CRM-style noise on the partner's side and look-alike families around each company.

Each real company is one entity; each has `families` look-alikes, distinct companies of their own
(never the same account): numbered siblings ("Acme 3", "Acme II") with their own domain, subsidiaries
with a corporate-structure word ("Acme Holding", "Acme Group"), and the same name in another country
(on that country's suffix, on a domain of its own, or with no website). Every entity is on both sides
(40 %, the truth), on ours only or on the partner's only. The website field is the source's as it
stands: "www.aboutschwab.com www.schwab.com" and "www.mitsui.com /jp /en /index.html" are real values.

    python bench/mapping/companies.py --families 20 --out var/bench-mapping/companies-20
"""

from __future__ import annotations

import argparse
import random
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from ecoops.engines.matching import country_codes, registrable_domains

# The index's home, for members whose infobox gives no country (or a US city, which `_country` reads).
INDEX_COUNTRY = {
    "AEX": "NL", "BEL 20": "BE", "CAC_40": "FR", "CAC Mid 60": "FR", "DAX": "DE", "DOW JONES": "US",
    "EURO STOXX 50": "DE", "FTSE 100": "GB", "IBEX 35": "ES", "MDAX": "DE", "NASDAQ 100": "US",
    "NIKKEI 225": "JP", "OMX Helsinki 25": "FI", "OMX Stockholm 30": "SE", "SDAX": "DE", "S&P 100": "US",
    "S&P 500": "US", "S&P 600": "US", "Switzerland 20": "CH", "TecDAX": "DE",
}  # fmt: skip
COUNTRY_SPELLINGS = {
    "US": ("United States", "USA", "U.S.", "United States of America"),
    "GB": ("United Kingdom", "UK", "Great Britain", "England"),
    "DE": ("Germany", "Deutschland", "DE"),
    "FR": ("France", "FR", "FRA"),
    "JP": ("Japan", "JP", "Nippon"),
    "NL": ("Netherlands", "The Netherlands", "Holland"),
    "ES": ("Spain", "España", "ES"),
    "SE": ("Sweden", "Sverige", "SE"),
    "CH": ("Switzerland", "Schweiz", "CH"),
    "FI": ("Finland", "Suomi", "FI"),
    "BE": ("Belgium", "Belgique", "BE"),
}
SUFFIX = {"US": "com", "GB": "co.uk", "DE": "de", "FR": "fr", "JP": "co.jp", "NL": "nl", "ES": "es",
          "SE": "se", "CH": "ch", "FI": "fi", "BE": "be"}  # fmt: skip
LEGAL_FORMS = {"US": ("Inc.", "Corp.", "Corporation", "LLC"), "GB": ("plc", "Ltd", "Limited"),
               "DE": ("AG", "GmbH", "SE"), "FR": ("SA", "S.A.", "SAS"), "JP": ("Co., Ltd.", "K.K.", "Corp."),
               "NL": ("N.V.", "B.V."), "ES": ("S.A.",), "SE": ("AB", "AB (publ)"), "CH": ("AG", "SA"),
               "FI": ("Oyj", "Oy"), "BE": ("SA/NV", "NV")}  # fmt: skip
# First labels that are no brand ("global.honda", "group.bnpparibas" on brand suffixes).
GENERIC_LABELS = frozenset({"global", "group", "corporate", "about", "www", "investors", "home"})
# A family's subsidiaries take "Group" or "Holding"; the spellings beside them are the partner's noise
# ("Groupe", "Holdings" are one word to a person, so never two look-alikes of one family).
STRUCTURE_WORDS = ("Group", "Holding")
STRUCTURE_SPELLINGS = {"Group": ("Groupe", "Gruppe", "Group"), "Holding": ("Holdings", "Holding")}
ROMAN = ("II", "III", "IV", "V", "VI")
# German and Nordic spellings without the umlaut, as a CRM without them writes them.
TRANSLITERATION = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss"})
NOISE_TYPES = (
    "typo", "legal_form", "case", "structure_word", "transliterated", "multi_url", "missing_domain",
    "missing_country", "country_variant",
)  # fmt: skip
LOOKALIKE_KINDS = ("numbered", "structure", "other_country")


@dataclass
class Entity:
    name: str
    country: str  # ISO alpha-2
    website: str  # as the source (or the family) has it; "" for none
    family: int  # the real company it belongs to
    kind: str  # "real" or one of LOOKALIKE_KINDS


def real_companies() -> list[Entity]:
    """One entity per distinct company name of the indices, with its country and website."""
    from pytickersymbols.indices_data import INDICES

    seen: dict[str, tuple[str, str | None, str | None, str]] = {}
    for index, data in INDICES.items():
        for company in data["companies"]:
            metadata = company.get("metadata") or {}
            seen.setdefault(
                company["name"].strip(),
                (index, company.get("country"), metadata.get("headquarters"), metadata.get("website") or ""),
            )
    places = sorted({p for _, country, hq, _ in seen.values() for p in _places(country, hq)})
    codes = dict(zip(places, country_codes(pa.array(places, pa.string())).to_pylist(), strict=True))
    return [
        Entity(name, _country(codes, country, hq) or INDEX_COUNTRY[index], website.strip(), n, "real")
        for n, (name, (index, country, hq, website)) in enumerate(seen.items())
    ]


def _places(*places: str | None) -> list[str]:
    return [part.strip() for place in places if place for part in place.split(",")]


def _country(codes: dict[str, str | None], *places: str | None) -> str | None:
    """A country code from "Germany", or from "Houston, Texas" (US states and US cities are US)."""
    for place in places:
        if not place:
            continue
        for part in reversed(place.split(",")):
            if codes.get(part.strip()):
                return codes[part.strip()]
        if re.search(r",\s*[A-Z][a-z]+( [A-Z][a-z]+)?$", place):
            return "US"  # "City, State": the infoboxes of US companies
    return None


def _suffix(country: str) -> str:
    return SUFFIX.get(country, country.lower())


def _first_domains(reals: list[Entity]) -> list[str | None]:
    """Each company's first registrable domain in its website field."""
    tokens = [e.website.split() for e in reals]
    domains = iter(registrable_domains(pa.array([t for ts in tokens for t in ts], pa.string())).to_pylist())
    return [next(iter(d for d in [next(domains) for _ in ts] if d), None) for ts in tokens]


def _label(entity: Entity, domain: str | None) -> str:
    """What its look-alikes' domains are made from: its domain's first label, else its name squeezed."""
    if domain and domain.split(".", 1)[0] not in GENERIC_LABELS:
        return domain.split(".", 1)[0]
    squeezed = unicodedata.normalize("NFKD", entity.name.lower()).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", squeezed)[:20]


def _family(rng: random.Random, real: Entity, label: str, count: int) -> list[Entity]:
    """`count` distinct look-alikes of a real company, each a company of its own with its own domain."""
    members, taken = [], {(real.name.lower(), real.country)}
    numbers = iter(rng.sample(range(2, 200), 198))  # never repeat: the fallback when a draw is taken
    for k in range(count):
        for _ in range(20):
            member = _lookalike(rng, real, label, LOOKALIKE_KINDS[(k + real.family) % 3], numbers)
            if (member.name.lower(), member.country) not in taken:
                break
        else:
            member = _lookalike(rng, real, label, "numbered", numbers, roman=False)
        taken.add((member.name.lower(), member.country))
        members.append(member)
    return members


def _lookalike(
    rng: random.Random, real: Entity, label: str, kind: str, numbers: Iterator[int], roman: bool = True
) -> Entity:
    if kind == "numbered":
        number = rng.choice(ROMAN) if roman and rng.random() < 0.3 else str(next(numbers))
        website = f"www.{label}{number.lower()}.{_suffix(real.country)}"
        return Entity(f"{real.name} {number}", real.country, website, real.family, kind)
    if kind == "structure":
        # A group or a holding at home, named as such companies are: the name without its legal form and
        # structure word, and the other word ("Palomar Holdings, Inc." has "Palomar Group", never
        # "Palomar Holdings, Inc. Holding", which any reader takes for the company itself).
        base, had = _bare(real.name)
        word, country = (
            rng.choice([w for w in STRUCTURE_WORDS if w not in had] or STRUCTURE_WORDS),
            real.country,
        )
        return Entity(f"{base} {word}", country, f"{label}-{word.lower()}.{_suffix(country)}",
                      real.family, kind)  # fmt: skip
    # A namesake abroad is another company. In real lists its website is any of: the same label on its
    # country's suffix (an unrelated "Acme" in France owns acme.fr as readily as the brand would), a
    # domain of its own ("acmefr.fr"), or none at all (a small firm, or a field left empty).
    # (Never the company's own domain: the brand's label on ".com" is the brand's site, not a namesake's.)
    country = rng.choice([c for c in SUFFIX if c != real.country])
    own = f"{label}{country.lower()}.{_suffix(country)}"
    same_label = f"{label}.{_suffix(country)}"
    if same_label in real.website.lower():
        same_label = own
    website = rng.choice((f"https://{same_label}/", f"https://{own}/", ""))
    return Entity(real.name, country, website, real.family, kind)


# The generator's own list (not the engine's): the legal forms the source's names end with.
_TRAILING_FORMS = re.compile(
    r"(?:,?\s+(?:Inc\.?|Corp\.?|Corporation|Company|Co\.?|LLC|L\.P\.|plc|PLC|Ltd\.?|Limited|AG|GmbH|SE|"
    r"S\.?A\.?|SAS|N\.?V\.?|B\.?V\.?|AB|Oyj|Oy|K\.K\.|& Co\.? KGaA|KGaA|SA/NV))+$"
)
_STRUCTURE_TAIL = re.compile(r"\s+(Group|Groupe|Gruppe|Holdings?)$")


def _bare(name: str) -> tuple[str, set[str]]:
    """A name without its trailing legal forms and structure words, and which of STRUCTURE_WORDS it had."""
    had: set[str] = set()
    while True:
        stripped = _TRAILING_FORMS.sub("", name)
        found = _STRUCTURE_TAIL.search(stripped)
        if found and found.start() > 0:
            had.add("Holding" if found.group(1).startswith("Holding") else "Group")
            stripped = stripped[: found.start()]
        if stripped == name or not stripped.strip():
            return name, had
        name = stripped


def _typo(rng: random.Random, name: str) -> str:
    letters = [i for i, c in enumerate(name) if c.isalpha() and i > 0]
    if not letters:
        return name
    i = rng.choice(letters)
    kind = rng.choice(("substitute", "delete", "insert", "transpose"))
    letter = rng.choice("abcdefghijklmnopqrstuvwxyz")
    if kind == "substitute":
        return name[:i] + letter + name[i + 1 :]
    if kind == "delete":
        return name[:i] + name[i + 1 :]
    if kind == "insert":
        return name[:i] + letter + name[i:]
    return name[: i - 1] + name[i] + name[i - 1] + name[i + 1 :]


def _partner_noise(rng: random.Random, tier: str, e: Entity) -> list[str]:
    """CRM-style noise of a partner's record; the hard tier gets more and harsher of it."""
    p = {"easy": 0.15, "hard": 0.4}[tier]
    noise = [kind for kind in ("legal_form", "case", "country_variant") if rng.random() < p]
    if tier == "hard":
        noise += [kind for kind, q in (("typo", 0.4), ("missing_country", 0.15)) if rng.random() < q]
        domain = rng.random()
        noise += ["missing_domain"] if domain < 0.3 else ["multi_url"] if domain < 0.5 else []
        # A structure word added to a company's name ("ResMed" / "RESMED GROUP"), or a subsidiary's
        # spelt another way ("Group" / "Groupe"). A CRM adds the word whether or not the record keeps
        # its website, so it is drawn independently of the domain noise.
        if e.kind in ("real", "structure") and rng.random() < 0.3:
            noise.append("structure_word")
    if (e.name.translate(TRANSLITERATION) != e.name or not e.name.isascii()) and rng.random() < 0.5:
        noise.append("transliterated")
    return noise


def _render_partner(rng: random.Random, e: Entity, noise: list[str]) -> tuple[str, str, str]:
    name = e.name
    if "transliterated" in noise:
        name = unicodedata.normalize("NFKD", name.translate(TRANSLITERATION))
        name = "".join(c for c in name if not unicodedata.combining(c))
    if "structure_word" in noise:  # a word added, or a look-alike's word spelt another way
        word = name.rsplit(" ", 1)[-1]
        if word in STRUCTURE_SPELLINGS:
            name = f"{name.rsplit(' ', 1)[0]} {rng.choice(STRUCTURE_SPELLINGS[word])}"
        else:
            name = f"{name} {rng.choice(STRUCTURE_WORDS)}"
    if "typo" in noise:
        name = _typo(rng, name)
    if "legal_form" in noise:
        form = rng.choice(LEGAL_FORMS.get(e.country, ("SA", "Ltd")))
        name = f"{name}{rng.choice(('', ',', ''))} {form}"
    if "case" in noise:
        name = rng.choice((name.upper(), name.lower()))
    website = e.website
    if "missing_domain" in noise:
        website = rng.choice(("", "n/a", "-"))
    elif "multi_url" in noise and website:
        first = website.split()[0]
        own_label = re.sub(r"^(https?://)?(www\.)?", "", first).split(".")[0]
        website = rng.choice(
            (
                f"{first} /en /index.html",
                f"www.about{own_label}.com {first}",
                f"{first}; https://investors.{first.removeprefix('www.').split('/')[0]}/",
            )
        )
    spellings = COUNTRY_SPELLINGS.get(e.country, (e.country,))
    country = rng.choice(spellings[1:] or spellings) if "country_variant" in noise else spellings[0]
    if "missing_country" in noise:
        country = ""
    return name, website, country


def generate(families: int, seed: int = 7) -> dict[str, pa.Table]:
    """`ours`, `theirs` (id, name, website, country, tier, noise), `truth` and `lookalikes`, as
    `generate.generate` makes them, from the real companies and `families` look-alikes of each."""
    rng = random.Random(seed)
    reals = real_companies()
    # One company listed under two names (share classes, a renamed listing) is kept once.
    # (Their look-alikes' domains are made from the label, so the label must be the company's own.)
    by_label: dict[str, Entity] = {}
    for real, domain in zip(reals, _first_domains(reals), strict=True):
        by_label.setdefault(_label(real, domain), real)
    entities = [m for label, real in by_label.items() for m in [real, *_family(rng, real, label, families)]]
    ours: list[dict[str, str]] = []
    theirs: list[dict[str, str]] = []
    truth: list[tuple[str, str, str]] = []
    placed: list[tuple[int, str, str | None, str | None]] = []  # family, kind, our id, their id
    for n, e in enumerate(entities):
        draw = rng.random()
        where = "both" if draw < 0.4 else "ours" if draw < 0.7 else "theirs"
        tier = "easy" if rng.random() < 0.5 else "hard"
        our_id = their_id = None
        if where in ("both", "ours"):
            our_id = f"A{n:07d}"
            spelling = COUNTRY_SPELLINGS.get(e.country, (e.country,))[0]
            ours.append(_row(our_id, e.name, e.website, spelling, tier, ""))
        if where in ("both", "theirs"):
            their_id = f"P{n:07d}"
            noise = _partner_noise(rng, tier, e)
            theirs.append(_row(their_id, *_render_partner(rng, e, noise), tier, "|".join(noise)))
        if where == "both":
            truth.append((our_id, their_id, tier))  # type: ignore[arg-type]
        placed.append((e.family, e.kind, our_id, their_id))
    # Look-alike pairs: ours and the partner's records of one family that are two companies.
    lookalikes: list[tuple[str, str, str]] = []
    by_family: dict[int, list[tuple[str, str | None, str | None]]] = {}
    for family, kind, our_id, their_id in placed:
        by_family.setdefault(family, []).append((kind, our_id, their_id))
    for members in by_family.values():
        for our_kind, our_id, _ in members:
            for their_kind, other_our_id, their_id in members:
                if our_id and their_id and other_our_id != our_id:
                    lookalikes.append((our_id, their_id, their_kind if their_kind != "real" else our_kind))
    rng.shuffle(ours)
    rng.shuffle(theirs)
    return {
        "ours": pa.Table.from_pylist(ours),
        "theirs": pa.Table.from_pylist(theirs),
        "truth": pa.table({k: [t[i] for t in truth] for i, k in enumerate(("our_id", "their_id", "tier"))}),
        "lookalikes": pa.table(
            {k: [t[i] for t in lookalikes] for i, k in enumerate(("our_id", "their_id", "kind"))}
        ),
    }


def _row(rid: str, name: str, website: str, country: str, tier: str, noise: str) -> dict[str, str]:
    name = unicodedata.normalize("NFC", name)
    return {"id": rid, "name": name, "website": website, "country": country, "tier": tier, "noise": noise}


def write(families: int, out: Path, seed: int = 7) -> Path:
    """Generate once and keep the Parquet files; later runs with the same families and seed reuse them."""
    out.mkdir(parents=True, exist_ok=True)
    if not all((out / f"{name}.parquet").exists() for name in ("ours", "theirs", "truth", "lookalikes")):
        for name, table in generate(families, seed).items():
            pq.write_table(table, out / f"{name}.parquet")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", type=int, default=1, help="look-alikes around each real company")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    out = args.out or Path("var/bench-mapping") / f"companies-{args.families}-{args.seed}"
    print(write(args.families, out, args.seed))


if __name__ == "__main__":
    main()
