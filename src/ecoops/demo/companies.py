"""Plausible companies: names with legal forms, industries, countries, sizes and the domains they own."""

from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from faker import Faker


class Segment(StrEnum):
    SMB = "SMB"
    MID_MARKET = "Mid-Market"
    ENTERPRISE = "Enterprise"


@dataclass(frozen=True)
class Country:
    name: str  # as CRMs export billing countries
    code: str  # ISO 3166-1 alpha-2
    weight: int
    locale: str  # the Faker locale its people's surnames come from
    tld: str
    legal_forms: tuple[str, ...]  # most common first
    region: str  # the sales territory that owns it


COUNTRIES: tuple[Country, ...] = (
    Country("United States", "US", 42, "en_US", "com", ("Inc.", "LLC", "Corp.", "Inc", "Co."), "Americas"),
    Country("United Kingdom", "GB", 10, "en_GB", "co.uk", ("Ltd", "Limited", "plc", "LLP"), "EMEA"),
    Country("Germany", "DE", 9, "de_DE", "de", ("GmbH", "AG", "GmbH & Co. KG", "SE"), "EMEA"),
    Country("France", "FR", 6, "fr_FR", "fr", ("SAS", "S.A.", "SARL"), "EMEA"),
    Country("Canada", "CA", 5, "en_CA", "ca", ("Inc.", "Ltd.", "Corp."), "Americas"),
    Country("Netherlands", "NL", 4, "nl_NL", "nl", ("B.V.", "N.V."), "EMEA"),
    Country("Australia", "AU", 4, "en_AU", "com.au", ("Pty Ltd", "Ltd"), "APAC"),
    Country("Spain", "ES", 3, "es_ES", "es", ("S.A.", "S.L."), "EMEA"),
    Country("Italy", "IT", 3, "it_IT", "it", ("S.p.A.", "S.r.l."), "EMEA"),
    Country("Sweden", "SE", 2, "sv_SE", "se", ("AB",), "EMEA"),
    Country("Switzerland", "CH", 2, "de_CH", "ch", ("AG", "GmbH", "SA"), "EMEA"),
    Country("Ireland", "IE", 2, "en_IE", "ie", ("Ltd", "DAC"), "EMEA"),
    Country("Brazil", "BR", 2, "pt_BR", "com.br", ("Ltda.", "S.A."), "Americas"),
    Country("India", "IN", 2, "en_IN", "in", ("Pvt. Ltd.", "Ltd"), "APAC"),
    Country("Mexico", "MX", 1, "es_MX", "com.mx", ("S.A. de C.V.",), "Americas"),
)
COUNTRY_BY_CODE = {country.code: country for country in COUNTRIES}
# How a subsidiary names itself after its parent brand, per country it is founded in.
SUBSIDIARY_LABELS = {"US": "USA", "GB": "UK", "DE": "Deutschland", "FR": "France", "NL": "Nederland"}

# Industry → (weight, words that end such companies' names).
INDUSTRIES: dict[str, tuple[int, tuple[str, ...]]] = {
    "Software": (16, ("Software", "Systems", "Labs", "Technologies", "Digital")),
    "Financial Services": (11, ("Capital", "Financial", "Insurance", "Partners", "Payments")),
    "Manufacturing": (11, ("Manufacturing", "Industries", "Components", "Engineering", "Tools")),
    "Healthcare": (10, ("Health", "Medical", "Care", "Clinics", "Pharma")),
    "Retail": (8, ("Retail", "Stores", "Brands", "Outfitters", "Market")),
    "Professional Services": (8, ("Consulting", "Advisors", "Group", "Associates")),
    "Logistics": (6, ("Logistics", "Freight", "Transport", "Shipping")),
    "Media": (5, ("Media", "Studios", "Publishing")),
    "Education": (4, ("Learning", "Academy", "Education")),
    "Energy": (4, ("Energy", "Power", "Solar", "Utilities")),
    "Telecommunications": (4, ("Telecom", "Networks", "Communications")),
    "Construction": (4, ("Construction", "Builders", "Building")),
    "Real Estate": (3, ("Properties", "Realty", "Estates")),
    "Hospitality": (3, ("Hotels", "Hospitality", "Travel")),
    "Food & Beverage": (3, ("Foods", "Brewing", "Kitchens")),
}
STEMS = (
    "North", "Blue", "Bright", "Clear", "Silver", "Iron", "Summit", "Pioneer", "Ever", "Granite", "Cedar",
    "Harbor", "Apex", "Crest", "Nova", "Vertex", "Lumen", "Atlas", "Orbit", "Sterling", "Maple", "Willow",
    "Falcon", "Horizon", "Key", "Meridian", "Quantum", "Beacon", "Cobalt", "Coral", "Red", "Stone",
)  # fmt: skip
TAILS = (
    "wave", "point", "line", "field", "path", "stone", "bridge", "gate", "works", "wood", "light", "peak",
    "side", "view", "ridge", "ware", "well", "brook", "star", "haven",
)  # fmt: skip
# Size bands: (weight, median employees, lowest, highest).
SEGMENT_SIZES = {
    Segment.SMB: (55, 45, 5, 199),
    Segment.MID_MARKET: (32, 600, 200, 1999),
    Segment.ENTERPRISE: (13, 6000, 2000, 150_000),
}
_FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "&": " "})
_SURNAME = re.compile(r"^[^\W\d_]+(?:[ '-][^\W\d_]+)*$")
# How people type a website into a CRM, and how often.
WEBSITE_FORMS = {"https://www.{}": 40, "www.{}": 27, "{}": 17, "http://www.{}": 8, "https://{}/": 8}


def segment_of(employees: int) -> Segment:
    if employees >= SEGMENT_SIZES[Segment.ENTERPRISE][2]:
        return Segment.ENTERPRISE
    return Segment.MID_MARKET if employees >= SEGMENT_SIZES[Segment.MID_MARKET][2] else Segment.SMB


@dataclass(frozen=True)
class Company:
    name: str  # as the CRM holds it, legal form included
    brand: str  # the name without its legal form
    legal_form: str
    domain: str  # "" when no website is on record
    website: str  # as typed into the CRM
    country: Country
    industry: str
    employees: int

    @property
    def segment(self) -> Segment:
        return segment_of(self.employees)


def surname_pools(seed: int, per_locale: int = 250) -> dict[str, tuple[str, ...]]:
    """Surnames per locale, drawn once from a seeded Faker (single real names only, no 'II' or 'Jr.')."""
    faker = Faker(sorted({country.locale for country in COUNTRIES}))
    faker.seed_instance(seed)
    pools = {}
    for locale in sorted({country.locale for country in COUNTRIES}):
        drawn = (faker[locale].last_name() for _ in range(per_locale))
        pools[locale] = tuple(
            dict.fromkeys(
                name
                for name in drawn
                if _SURNAME.match(name) and all(any(c.islower() for c in part) for part in name.split())
            )
        )
    return pools


def slug_words(text: str) -> list[str]:
    """The lower-case ASCII words of a name, as they would appear in a domain."""
    folded = unicodedata.normalize("NFKD", text.lower().translate(_FOLD))
    ascii_text = folded.encode("ascii", "ignore").decode()
    return re.findall(r"[a-z0-9]+", ascii_text)


def website_for(domain: str, rng: random.Random) -> str:
    """The domain written the way people type websites into a CRM."""
    return rng.choices(list(WEBSITE_FORMS), list(WEBSITE_FORMS.values()))[0].format(domain)


class CompanyGenerator:
    """Draws distinct companies; brands and domains already taken (ours, or another list's) are avoided."""

    def __init__(
        self,
        rng: random.Random,
        surnames: Mapping[str, Sequence[str]],
        *,
        taken_domains: set[str] | None = None,
        taken_brands: set[str] | None = None,
        missing_website_share: float = 0.03,
    ) -> None:
        self.rng = rng
        self.surnames = surnames
        self.domains: set[str] = set(taken_domains or ())
        self.brands: set[str] = set(taken_brands or ())
        self.missing_website_share = missing_website_share

    def company(self) -> Company:
        rng = self.rng
        country = rng.choices(COUNTRIES, [c.weight for c in COUNTRIES])[0]
        industry = rng.choices(list(INDUSTRIES), [weight for weight, _ in INDUSTRIES.values()])[0]
        brand = self._brand(country, industry)
        while brand.lower() in self.brands:
            brand = self._brand(country, industry)
        self.brands.add(brand.lower())
        domain = (
            "" if rng.random() < self.missing_website_share else self.domain_for(brand, country, industry)
        )
        return self._with_legal_form(brand, domain, country, industry, self._employees())

    def subsidiary(self, parent: Company, country: Country) -> Company:
        """A daughter company abroad: the parent's brand and domain name under that country's domain."""
        brand = f"{parent.brand} {SUBSIDIARY_LABELS[country.code]}"
        self.brands.add(brand.lower())
        stem = parent.domain.split(".", 1)[0] if parent.domain else "-".join(slug_words(parent.brand))
        domain = self.claim_domain([f"{stem}.{country.tld}", f"{stem}-{country.code.lower()}.com"])
        employees = max(5, int(parent.employees * self.rng.uniform(0.03, 0.25)))
        return self._with_legal_form(brand, domain, country, parent.industry, employees)

    def _with_legal_form(
        self, brand: str, domain: str, country: Country, industry: str, employees: int
    ) -> Company:
        rng = self.rng
        forms = country.legal_forms
        # CRMs hold many names without their legal form; the rest mostly carry the country's commonest.
        legal_form = "" if rng.random() < 0.08 else rng.choices(forms, range(len(forms) * 2, 0, -2))[0]
        return Company(
            name=f"{brand} {legal_form}".strip(),
            brand=brand,
            legal_form=legal_form,
            domain=domain,
            website=website_for(domain, rng) if domain else "",
            country=country,
            industry=industry,
            employees=employees,
        )

    def _brand(self, country: Country, industry: str) -> str:
        rng = self.rng
        nouns = INDUSTRIES[industry][1]
        surnames = self.surnames[country.locale]
        pattern = rng.random()
        if pattern < 0.30:
            return f"{rng.choice(surnames)} {rng.choice(nouns)}"
        if pattern < 0.40:
            return f"{rng.choice(surnames)} {rng.choice(('&', '-'))} {rng.choice(surnames)}".replace(
                " - ", "-"
            )
        invented = rng.choice(STEMS) + rng.choice(TAILS)
        if pattern < 0.75:
            return f"{invented} {rng.choice(nouns)}"
        if pattern < 0.90:
            return invented
        return f"{rng.choice(STEMS)} {rng.choice(TAILS).capitalize()} {rng.choice(nouns)}"

    def domain_for(self, brand: str, country: Country, industry: str) -> str:
        """A free domain derived from the brand, under the country's or a generic top-level domain."""
        rng = self.rng
        words = slug_words(brand)
        if country.code != "US" and rng.random() < 0.65:
            tld = country.tld
        elif industry == "Software" and rng.random() < 0.25:
            tld = "io"
        else:
            tld = rng.choices(("com", "net", "co"), (90, 5, 5))[0]
        labels = ["".join(words), "-".join(words)]
        if rng.random() < 0.2:
            labels.reverse()
        if len(words) > 1 and len(words[0]) >= 5 and rng.random() < 0.15:
            labels.insert(0, words[0])
        candidates = [f"{label}.{tld}" for label in labels]
        candidates += [f"{labels[0]}{extra}.{tld}" for extra in ("hq", "group", "global", "inc")]
        return self.claim_domain(candidates)

    def claim_domain(self, candidates: list[str]) -> str:
        """The first candidate nobody holds yet (else the first one numbered), now taken."""
        for domain in candidates:
            if domain not in self.domains:
                self.domains.add(domain)
                return domain
        label, tld = candidates[0].split(".", 1)
        number = 2
        while f"{label}{number}.{tld}" in self.domains:
            number += 1
        self.domains.add(f"{label}{number}.{tld}")
        return f"{label}{number}.{tld}"

    def _employees(self) -> int:
        rng = self.rng
        bands = list(SEGMENT_SIZES.values())
        _, median, lowest, highest = rng.choices(bands, [band[0] for band in bands])[0]
        return int(min(max(rng.lognormvariate(0, 0.8) * median, lowest), highest))
