"""Seeded generator of messy CRM account pairs: our accounts, a partner's, the truth and the look-alikes.

Every record carries its tier (easy / hard) and the noise applied to it, so the benchmark can report
recall per noise type. Look-alikes are distinct companies built to fool a matcher: siblings that
share a word, one name in two countries, a parent and its regional subsidiary.

    python bench/mapping/generate.py --size 10000 --out var/bench-mapping/10000
"""

from __future__ import annotations

import argparse
import random
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

# fmt: off
SYLLABLES = (
    "ac", "ad", "al", "am", "an", "ar", "as", "at", "ba", "be", "bi", "bo", "bu", "ca", "ce", "ci",
    "co", "cu", "da", "de", "di", "do", "du", "el", "em", "en", "er", "es", "ex", "fa", "fe", "fi",
    "fo", "ga", "ge", "gi", "go", "gu", "ha", "he", "hi", "ho", "hu", "il", "im", "in", "ir", "is",
    "ja", "jo", "ka", "ke", "ki", "ko", "ku", "la", "le", "li", "lo", "lu", "ma", "me", "mi", "mo",
    "mu", "na", "ne", "ni", "no", "nu", "ob", "ol", "om", "on", "or", "os", "pa", "pe", "pi", "po",
    "pu", "qua", "ra", "re", "ri", "ro", "ru", "sa", "se", "si", "so", "su", "ta", "te", "ti", "to",
    "tu", "ul", "um", "un", "ur", "us", "va", "ve", "vi", "vo", "xa", "xi", "ya", "yo", "za", "ze",
    "zi", "zo", "bra", "bri", "cla", "cre", "dra", "fla", "fre", "gla", "gre", "kra", "pla", "pre", "pro",
    "sta", "ste", "stra", "tra", "tri", "vor", "zen", "lux", "nex", "tek", "gen", "ver", "dyn", "sol",
)
DESCRIPTORS = (
    "Analytics", "Robotics", "Systems", "Labs", "Foods", "Logistics", "Energy", "Health",
    "Software", "Capital", "Media", "Networks", "Motors", "Pharma", "Consulting", "Partners",
    "Studios", "Solutions", "Technologies", "Industries", "Dynamics", "Ventures", "Textiles", "Marine",
    "Aerospace", "Retail", "Insurance", "Security", "Biotech", "Telecom",
)
ACCENTED = {"e": "é", "a": "ä", "o": "ö", "u": "ü", "c": "ç", "n": "ñ"}
# fmt: on


@dataclass(frozen=True)
class Country:
    code: str
    spellings: tuple[str, ...]  # the first is the canonical one
    legal_forms: tuple[tuple[str, ...], ...]  # variants of one form: ("GmbH", "G.m.b.H.")
    suffixes: tuple[str, ...]  # public suffixes its companies use
    weight: float
    region: str = field(default="")  # the word a regional subsidiary of a foreign parent takes


# fmt: off
COUNTRIES = (
    Country("US", ("United States", "USA", "US", "U.S.A.", "United States of America"),
            (("Inc", "Inc.", "Incorporated"), ("LLC", "L.L.C."), ("Corp", "Corporation"), ("Co", "Company")),
            ("com", "com", "io", "us"), 0.38, "America"),
    Country("GB", ("United Kingdom", "UK", "GB", "Great Britain", "England"),
            (("Ltd", "Limited", "Ltd."), ("plc", "PLC", "p.l.c.")), ("co.uk", "com", "uk"), 0.10, "UK"),
    Country("DE", ("Germany", "Deutschland", "DE", "DEU"),
            (("GmbH", "G.m.b.H."), ("AG", "A.G."), ("GmbH & Co. KG",)), ("de", "com"), 0.10, "Deutschland"),
    Country("FR", ("France", "FR", "FRA", "République française"),
            (("SAS", "S.A.S."), ("SA", "S.A."), ("SARL", "S.A.R.L.")), ("fr", "com"), 0.07, "France"),
    Country("NL", ("Netherlands", "The Netherlands", "NL", "Holland"),
            (("B.V.", "BV"), ("N.V.", "NV")), ("nl", "com"), 0.04, "Nederland"),
    Country("JP", ("Japan", "JP", "JPN", "Nippon"),
            (("KK", "K.K.", "Kabushiki Kaisha"), ("Co., Ltd.", "Co Ltd")), ("co.jp", "jp", "com"), 0.05,
            "Japan"),
    Country("ES", ("Spain", "España", "ES", "ESP"),
            (("S.L.", "SL"), ("S.A.", "SA")), ("es", "com"), 0.04, "España"),
    Country("IT", ("Italy", "Italia", "IT", "ITA"),
            (("S.p.A.", "SpA"), ("S.r.l.", "Srl")), ("it", "com"), 0.04, "Italia"),
    Country("SE", ("Sweden", "Sverige", "SE", "SWE"),
            (("AB", "Aktiebolag"),), ("se", "com"), 0.03, "Sverige"),
    Country("AU", ("Australia", "AU", "AUS"),
            (("Pty Ltd", "Pty. Ltd.", "Proprietary Limited"),), ("com.au", "com"), 0.04, "Australia"),
    Country("BR", ("Brazil", "Brasil", "BR", "BRA"),
            (("Ltda", "Ltda."), ("S.A.", "SA")), ("com.br", "com"), 0.03, "Brasil"),
    Country("CA", ("Canada", "CA", "CAN"),
            (("Inc", "Inc."), ("Ltd", "Limited")), ("ca", "com"), 0.03, "Canada"),
    Country("MX", ("Mexico", "México", "MX", "MEX"),
            (("S.A. de C.V.", "SA de CV"),), ("com.mx", "com"), 0.02, "México"),
    Country("DK", ("Denmark", "Danmark", "DK", "DNK"),
            (("A/S", "AS"), ("ApS",)), ("dk", "com"), 0.03, "Danmark"),
)
FREE_MAIL = ("gmail.com", "yahoo.com", "hotmail.com", "outlook.com", "gmx.de", "web.de", "orange.fr",
             "aol.com")
WEBSITE_FORMS = ("https://www.{d}", "http://{d}", "{d}", "www.{d}", "https://{d}/", "https://www.{d}/about",
                 "WWW.{D}", "https://{d}:443/contact?ref=crm")
NOISE_TYPES = ("typo", "legal_form", "case", "missing_domain", "variant_domain", "free_mail_domain",
               "missing_country", "country_variant", "accents", "the_and")
# fmt: on


@dataclass
class Entity:
    base: str  # "Zenvora"
    descriptor: str  # "Robotics" or ""
    country: Country
    domain: str  # "zenvorarobotics.de"
    form: int  # index into the country's legal forms
    accented: bool = False


@dataclass
class Record:
    id: str
    name: str
    website: str
    country: str
    tier: str
    noise: list[str]


def _base_names(rng: random.Random, count: int) -> list[str]:
    seen: set[str] = set()
    names: list[str] = []
    while len(names) < count:
        word = "".join(rng.choice(SYLLABLES) for _ in range(rng.choice((2, 3, 3, 4))))
        if len(word) >= 5 and word not in seen:
            seen.add(word)
            names.append(word.capitalize())
    return names


def _entity(rng: random.Random, base: str) -> Entity:
    country = rng.choices(COUNTRIES, weights=[c.weight for c in COUNTRIES])[0]
    descriptor = rng.choice(DESCRIPTORS) if rng.random() < 0.5 else ""
    label = (base + descriptor).lower()
    return Entity(
        base,
        descriptor,
        country,
        f"{label}.{rng.choice(country.suffixes)}",
        rng.randrange(len(country.legal_forms)),
        accented=rng.random() < 0.08,
    )


def _typo(rng: random.Random, word: str) -> str:
    i = rng.randrange(1, len(word))  # the first letter is rarely the one mistyped
    kind = rng.choice(("substitute", "delete", "insert", "transpose"))
    letter = rng.choice("abcdefghijklmnopqrstuvwxyz")
    if kind == "substitute":
        return word[:i] + letter + word[i + 1 :]
    if kind == "delete":
        return word[:i] + word[i + 1 :]
    if kind == "insert":
        return word[:i] + letter + word[i:]
    return word[: i - 1] + word[i] + word[i - 1] + word[i + 1 :] if i < len(word) else word[:-1] + letter


def _accent(base: str) -> str:
    for plain, accented in ACCENTED.items():
        if plain in base[1:]:
            return base[0] + base[1:].replace(plain, accented, 1)
    return base


def _render(rng: random.Random, e: Entity, rid: str, tier: str, noise: list[str]) -> Record:
    """A CRM record of entity `e` carrying the given noise."""
    base = _accent(e.base) if e.accented and "accents" not in noise else e.base
    if "typo" in noise:
        base = _typo(rng, base)
        if tier == "hard" and rng.random() < 0.2 and len(base) > 8:
            base = _typo(rng, base)
    words = [base] + ([e.descriptor] if e.descriptor else [])
    if "the_and" in noise:
        words = ["The", *words] if rng.random() < 0.5 else [*words, "&", "Co."]
    forms = e.country.legal_forms
    form = forms[e.form][0]
    if "legal_form" in noise:
        choice = rng.random()
        form = (
            ""
            if choice < 0.4
            else rng.choice(forms[e.form][1:] or forms[e.form])
            if choice < 0.7
            else rng.choice([f[0] for f in forms])
        )
    name = " ".join(words + ([form] if form else []))
    if "legal_form" in noise and rng.random() < 0.3:
        name = name.replace(f" {form}", f", {form}") if form else name
    if "case" in noise:
        name = rng.choice((name.upper(), name.lower()))
    domain = e.domain
    if "variant_domain" in noise:
        label, suffix = domain.split(".", 1)
        domain = rng.choice(
            (
                f"{label}.{rng.choice(('com', 'net', 'eu'))}",
                f"{label}-{e.country.code.lower()}.{suffix}",
                f"get{label}.{suffix}",
                f"{label}group.{suffix}",
            )
        )
    form_of_site = rng.choice(WEBSITE_FORMS)
    website = form_of_site.format(d=domain, D=domain.upper())
    if "missing_domain" in noise:
        website = rng.choice(("", "", "n/a", "-"))
    elif "free_mail_domain" in noise:
        website = f"{base.lower()}@{rng.choice(FREE_MAIL)}" if rng.random() < 0.5 else rng.choice(FREE_MAIL)
    spellings = e.country.spellings
    country = rng.choice(spellings[1:]) if "country_variant" in noise else spellings[0]
    if "missing_country" in noise:
        country = ""
    return Record(rid, name, website, country, tier, noise)


def _noise(rng: random.Random, tier: str, side: str) -> list[str]:
    """The noise a record gets: ours are kept tidier than a partner's export."""
    noise: list[str] = []
    if side == "ours":
        for kind, p in (("country_variant", 0.2), ("case", 0.05), ("legal_form", 0.1)):
            if rng.random() < p:
                noise.append(kind)
        return noise
    if tier == "easy":
        for kind, p in (("case", 0.3), ("legal_form", 0.3), ("country_variant", 0.3), ("the_and", 0.1)):
            if rng.random() < p:
                noise.append(kind)
        return noise
    for kind, p in (
        ("typo", 0.5),
        ("legal_form", 0.5),
        ("case", 0.3),
        ("country_variant", 0.3),
        ("missing_country", 0.15),
        ("accents", 0.1),
        ("the_and", 0.15),
    ):
        if rng.random() < p:
            noise.append(kind)
    domain_noise = rng.random()
    if domain_noise < 0.25:
        noise.append("missing_domain")
    elif domain_noise < 0.35:
        noise.append("variant_domain")
    elif domain_noise < 0.45:
        noise.append("free_mail_domain")
    return noise


def generate(size: int, seed: int = 7) -> dict[str, pa.Table]:
    """`ours` and `theirs` (id, name, website, country, tier, noise), `truth` and `lookalikes` pairs."""
    rng = random.Random(seed)
    shared = int(size * 0.4)
    lookalike_count = int(size * 0.12)
    ours_only = size - shared
    theirs_only = size - shared - lookalike_count
    bases = _base_names(rng, shared + ours_only + theirs_only)
    entities = [_entity(rng, b) for b in bases]
    our_entities = entities[: shared + ours_only]
    their_entities = entities[:shared] + entities[shared + ours_only :]
    our_ids = [f"A{n:07d}" for n in rng.sample(range(10 * size), size)]
    their_ids = [f"P{n:07d}" for n in rng.sample(range(10 * size), size)]
    tiers = ["easy" if rng.random() < 0.5 else "hard" for _ in range(size)]

    ours = [
        _render(rng, e, our_ids[i], tiers[i], _noise(rng, tiers[i], "ours"))
        for i, e in enumerate(our_entities)
    ]
    theirs = [
        _render(rng, e, their_ids[i], tiers[i], _noise(rng, tiers[i], "theirs"))
        for i, e in enumerate(their_entities)
    ]
    truth = [(ours[i].id, theirs[i].id, tiers[i]) for i in range(shared)]

    # Look-alikes of our records, placed on the partner's side: never the same company.
    lookalikes: list[tuple[str, str, str]] = []
    for k in range(lookalike_count):
        i = rng.randrange(len(our_entities))
        original = our_entities[i]
        kind = ("sibling", "same_name_other_country", "parent_subsidiary")[k % 3]
        if kind == "sibling":
            descriptor = rng.choice([d for d in DESCRIPTORS if d != original.descriptor])
            twin = Entity(
                original.base,
                descriptor,
                original.country,
                f"{(original.base + descriptor).lower()}.{original.country.suffixes[0]}",
                original.form,
            )
            noise = ["lookalike"]
        elif kind == "same_name_other_country":
            country = rng.choice([c for c in COUNTRIES if c.code != original.country.code])
            twin = Entity(
                original.base, original.descriptor, country, "", rng.randrange(len(country.legal_forms))
            )
            noise = ["lookalike", "missing_domain"]
        else:
            country = rng.choice([c for c in COUNTRIES if c.code != original.country.code])
            own_suffix = original.domain.split(".", 1)[1]
            suffix = next((s for s in country.suffixes if s not in ("com", own_suffix)), country.code.lower())
            twin = Entity(original.base, country.region, country, f"{original.base.lower()}.{suffix}", 0)
            noise = ["lookalike"]
        record = _render(rng, twin, f"P{10 * size + k:07d}", "lookalike", noise)
        theirs.append(record)
        lookalikes.append((ours[i].id, record.id, kind))

    rng.shuffle(ours)
    rng.shuffle(theirs)
    return {
        "ours": _records_table(ours),
        "theirs": _records_table(theirs),
        "truth": pa.table(
            {
                "our_id": [t[0] for t in truth],
                "their_id": [t[1] for t in truth],
                "tier": [t[2] for t in truth],
            }
        ),
        "lookalikes": pa.table(
            {
                "our_id": [t[0] for t in lookalikes],
                "their_id": [t[1] for t in lookalikes],
                "kind": [t[2] for t in lookalikes],
            }
        ),
    }


def _records_table(records: list[Record]) -> pa.Table:
    return pa.table(
        {
            "id": [r.id for r in records],
            "name": [unicodedata.normalize("NFC", r.name) for r in records],
            "website": [r.website for r in records],
            "country": [r.country for r in records],
            "tier": [r.tier for r in records],
            "noise": ["|".join(r.noise) for r in records],
        }
    )


def write(size: int, out: Path, seed: int = 7) -> Path:
    """Generate once and keep the Parquet files; later runs with the same size and seed reuse them."""
    out.mkdir(parents=True, exist_ok=True)
    if not all((out / f"{name}.parquet").exists() for name in ("ours", "theirs", "truth", "lookalikes")):
        for name, table in generate(size, seed).items():
            pq.write_table(table, out / f"{name}.parquet")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    out = args.out or Path("var/bench-mapping") / f"{args.size}-{args.seed}"
    print(write(args.size, out, args.seed))


if __name__ == "__main__":
    main()
