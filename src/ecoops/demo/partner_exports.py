"""A few partners' own account lists, as their CRMs export them, for account mapping.

Part of each list is our accounts, written the way another company's CRM holds them (another legal
form, capitals, typos, `www.` or no website); the rest are accounts we do not have. The true overlaps
go to a separate folder, so matching can be scored against them.
"""

from __future__ import annotations

import csv
import random
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ecoops.demo import crm_ids
from ecoops.demo.companies import Company, CompanyGenerator, slug_words
from ecoops.demo.crm_history import DemoAccount
from ecoops.demo.program import DemoPartner
from ecoops.partners.models import PartnerType, Stage

SALESFORCE_HEADER = ("Account ID", "Account Name", "Website", "Billing Country", "Population")
HUBSPOT_HEADER = ("Record ID", "Company name", "Company Domain Name", "Country/Region", "Population")
TRUTH_HEADER = ("Partner record ID", "Our account CRM ID")
POPULATIONS = {"Customers": 45, "Open Opportunities": 20, "Prospects": 35}
EXPORTING_TYPES = (
    PartnerType.TECHNOLOGY,
    PartnerType.RESELLER,
    PartnerType.TECHNOLOGY,
    PartnerType.SYSTEMS_INTEGRATOR,
)
EXPORTS_FOLDER = "partner-exports"
TRUTH_FOLDER = "match-truth"


@dataclass(frozen=True)
class PartnerExport:
    partner: DemoPartner
    filename: str
    header: tuple[str, ...]
    rows: list[tuple[str, ...]]
    truth: list[tuple[str, str]]  # (the partner's record id, our account's CRM id) for the rows that are ours


@dataclass(frozen=True)
class _Listed:
    company: Company
    population: str
    ours: DemoAccount | None


def exporting_partners(partners: list[DemoPartner]) -> list[DemoPartner]:
    """Established partners, of the wanted types where there are some."""
    candidates = [p for p in partners if p.stage in (Stage.ACTIVE, Stage.PRODUCING)]
    chosen: list[DemoPartner] = []
    for wanted in EXPORTING_TYPES:
        fitting = [p for p in candidates if p not in chosen and p.partner_type == wanted]
        others = [p for p in candidates if p not in chosen]
        if fitting or others:
            chosen.append((fitting or others)[0])
    return chosen


def _typo(name: str, rng: random.Random) -> str:
    """One slip of the keyboard inside the name: two letters swapped, one dropped, or one doubled."""
    inner = [i for i in range(1, len(name) - 2) if name[i].isalpha() and name[i + 1].isalpha()]
    if not inner:
        return name
    i = rng.choice(inner)
    return rng.choice(
        (
            name[:i] + name[i + 1] + name[i] + name[i + 2 :],
            name[:i] + name[i + 1 :],
            name[:i] + name[i] + name[i:],
        )
    )


def _name_as_they_hold_it(company: Company, rng: random.Random) -> str:
    draw = rng.random()
    if draw < 0.45:
        return company.name
    if draw < 0.60:
        return company.name.upper() if rng.random() < 0.5 else company.name.lower()
    if draw < 0.75:
        forms = [f for f in (*company.country.legal_forms, "Inc", "Ltd", "Group") if f != company.legal_form]
        return f"{company.brand} {rng.choice(forms)}"
    if draw < 0.88:
        return company.brand
    return _typo(company.name, rng)


def _website_as_they_hold_it(domain: str, rng: random.Random, *, bare: bool) -> str:
    if not domain or rng.random() < 0.1:
        return ""
    if bare:  # HubSpot keeps a domain, mostly as typed without a scheme
        return domain if rng.random() < 0.85 else f"www.{domain}"
    forms = (
        f"https://www.{domain}",
        f"www.{domain}",
        domain,
        f"http://{domain}/",
        f"https://www.{domain}/en/",
    )
    return rng.choice(forms)


def _population(rng: random.Random) -> str:
    return rng.choices(list(POPULATIONS), list(POPULATIONS.values()))[0]


def _record_ids(rng: random.Random, count: int, *, salesforce: bool) -> list[str]:
    if salesforce:  # the partner's own org: another instance, its own numbering
        instance, first = rng.choice(("3k", "5e", "7b", "4x")), rng.randint(10_000, 900_000)
        return [crm_ids.salesforce_id(crm_ids.ACCOUNT, first + n, instance=instance) for n in range(count)]
    record_id, ids = rng.randint(2_000_000_000, 9_000_000_000), []
    for _ in range(count):
        record_id += rng.randint(1, 40_000)
        ids.append(str(record_id))
    return ids


def _export(
    rng: random.Random,
    partner: DemoPartner,
    listed: list[_Listed],
    *,
    salesforce: bool,
) -> PartnerExport:
    rng.shuffle(listed)
    rows: list[tuple[str, ...]] = []
    truth: list[tuple[str, str]] = []
    for record_id, entry in zip(_record_ids(rng, len(listed), salesforce=salesforce), listed, strict=True):
        company = entry.company
        if entry.ours is None:
            name, website = company.name, company.domain if not salesforce else company.website
        else:
            name = _name_as_they_hold_it(company, rng)
            website = _website_as_they_hold_it(company.domain, rng, bare=not salesforce)
            truth.append((record_id, entry.ours.crm_id))
        country = company.country.code if salesforce and rng.random() < 0.12 else company.country.name
        rows.append((record_id, name, website, country, entry.population))
    if salesforce:  # a report comes sorted by its first text column
        rows.sort(key=lambda row: (row[1].casefold(), row[0]))
    slug = "-".join(slug_words(partner.name))
    return PartnerExport(
        partner=partner,
        filename=f"{slug}-{'salesforce-accounts' if salesforce else 'hubspot-companies'}.csv",
        header=SALESFORCE_HEADER if salesforce else HUBSPOT_HEADER,
        rows=rows,
        truth=truth,
    )


def build_partner_exports(
    rng: random.Random,
    surnames: Mapping[str, Sequence[str]],
    partners: list[DemoPartner],
    accounts: list[DemoAccount],
    touches: list[dict[str, Any]],
) -> list[PartnerExport]:
    """Account lists of up to four established partners, half Salesforce reports, half HubSpot exports."""
    worked_on: dict[int, set[str]] = {}
    for touch in touches:
        worked_on.setdefault(touch["partner_id"], set()).add(touch["account_crm_id"])
    companies = CompanyGenerator(
        rng,
        surnames,
        taken_domains={a.company.domain for a in accounts} | {p.domain for p in partners},
        taken_brands={a.company.brand.lower() for a in accounts},
        missing_website_share=0.06,
    )
    exports = []
    for position, partner in enumerate(exporting_partners(partners)):
        size = max(20, round(len(accounts) * rng.uniform(0.12, 0.3)))
        overlap = round(size * rng.uniform(0.10, 0.30))
        # Accounts it worked on with us are likely its customers; the rest of the overlap is chance.
        known = [a for a in accounts if a.crm_id in worked_on.get(partner.id, set())]
        ours = rng.sample(known, min(len(known), overlap // 2))
        picked = set(ours)
        ours += rng.sample([a for a in accounts if a not in picked], overlap - len(ours))
        listed = [
            _Listed(a.company, "Customers" if a in picked and rng.random() < 0.7 else _population(rng), a)
            for a in ours
        ]
        listed += [_Listed(companies.company(), _population(rng), None) for _ in range(size - overlap)]
        exports.append(_export(rng, partner, listed, salesforce=position % 2 == 0))
    return exports


def write_partner_exports(exports: list[PartnerExport], folder: Path) -> list[Path]:
    """Write the lists (and their true overlaps) under `folder`, replacing earlier demo lists; their paths."""
    paths = []
    for subfolder in (folder / EXPORTS_FOLDER, folder / TRUTH_FOLDER):
        shutil.rmtree(subfolder, ignore_errors=True)
        subfolder.mkdir(parents=True)
    for export in exports:
        for path, header, rows in (
            (folder / EXPORTS_FOLDER / export.filename, export.header, export.rows),
            (folder / TRUTH_FOLDER / export.filename, TRUTH_HEADER, export.truth),
        ):
            with path.open("w", newline="", encoding="utf-8") as file:
                writer = csv.writer(file)
                writer.writerow(header)
                writer.writerows(rows)
        paths.append(folder / EXPORTS_FOLDER / export.filename)
    return paths
