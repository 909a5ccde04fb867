"""A partner list upserts partners through the partners service: programs, tiers and life cycle stay right."""

from datetime import date

import pytest
from sqlalchemy import func, select

from ecoops.actors import Role
from ecoops.audit import AuditEvent
from ecoops.partners.models import Partner, PartnerChange, PartnerStageChange, Program, Tier
from ecoops.partners.tier_history import tiers_held
from tests.crm.imports.files import TODAY, run, write_csv
from tests.factories import make_partner, make_user

pytestmark = pytest.mark.all_backends

PARTNERS = """Partner ID,Partner Name,Partner Type,Program,Tier,Partner Manager,Stage,Partner Since,\
Website,Country
P-1,Acme Integrations,Systems Integrator,Resell,Gold,pm@example.com,active,2025-03-01,https://acme-int.com,Germany
P-2,Beta Apps,Technology Partner,Tech Alliance,,Pat Manager,signed,2025-05-10,beta.io,US
P-3,Gamma Agency,Agency,Resell,Silver,,prospect,,,
"""


def _partner(session, crm_id):
    return session.scalar(select(Partner).where(Partner.crm_id == crm_id))


def test_new_partners_with_programs_tiers_and_first_life_cycle_entry(session, tmp_path):
    manager = make_user(session, Role.PARTNER_MANAGER, email="pm@example.com", name="Pat Manager")
    dry = run(session, write_csv(tmp_path, PARTNERS), dry_run=True)
    assert (dry.new, dry.created) == (
        3,
        ["program Resell", "tier Resell · Gold", "program Tech Alliance", "tier Resell · Silver"],
    )
    assert session.scalars(select(Program)).all() == []

    outcome = run(session, write_csv(tmp_path, PARTNERS))
    assert (outcome.status, outcome.new, outcome.rejected) == ("committed", 3, 0)
    acme = _partner(session, "P-1")
    assert (acme.partner_type, acme.stage, acme.stage_since, acme.country, acme.owner_id) == (
        "systems_integrator",
        "active",
        date(2025, 3, 1),
        "DE",
        manager.id,
    )
    assert [d.domain for d in acme.domains] == ["acme-int.com"]
    assert [(m.program.name, m.tier.name) for m in acme.memberships] == [("Resell", "Gold")]
    beta = _partner(session, "P-2")
    assert ([(m.program.name, m.tier) for m in beta.memberships], beta.owner_id) == (
        [("Tech Alliance", None)],
        manager.id,
    )
    gamma = _partner(session, "P-3")
    assert (gamma.stage, gamma.stage_since) == ("prospect", TODAY)
    history = session.scalars(
        select(PartnerStageChange).where(PartnerStageChange.partner_id == acme.id)
    ).all()
    assert [(c.from_stage, c.to_stage, c.changed_on) for c in history] == [(None, "active", date(2025, 3, 1))]
    assert [t.name for t in session.scalar(select(Program).where(Program.name == "Resell")).tiers] == [
        "Gold",
        "Silver",
    ]

    again = run(session, write_csv(tmp_path, PARTNERS))
    assert (again.new, again.updated, again.unchanged, again.created) == (0, 0, 3, [])


def test_a_stage_change_goes_through_the_life_cycle_rules(session, tmp_path):
    partner = make_partner(session, name="Delta", crm_id="P-9", stage="signed", stage_since=date(2025, 1, 1))
    text = "Partner ID,Partner Name,Stage,Partner Since\nP-9,Delta,producing,2025-04-01\n"
    outcome = run(session, write_csv(tmp_path, text))
    assert (outcome.updated, outcome.rejected) == (1, 0)
    changes = session.scalars(
        select(PartnerStageChange)
        .where(PartnerStageChange.partner_id == partner.id)
        .order_by(PartnerStageChange.id)
    ).all()
    assert [(c.from_stage, c.to_stage, c.changed_on) for c in changes] == [
        (None, "signed", date(2025, 1, 1)),
        ("signed", "producing", date(2025, 4, 1)),
    ]
    actions = session.scalars(select(AuditEvent.action).where(AuditEvent.target_id == str(partner.id))).all()
    assert "partner.stage_changed" in actions


def test_rows_that_cannot_apply_are_refused_naming_the_column(session, tmp_path):
    make_partner(session, name="Echo", crm_id="P-5", stage="prospect")
    text = """Partner ID,Partner Name,Partner Type,Stage,Partner Manager,Country
P-5,Echo,,churned,,
P-6,Foxtrot,,active,,
P-7,Golf,reseller,active,nobody@example.com,
P-8,Hotel,plumber,active,,Atlantis
P-10,India,reseller,active,,
P-10,India again,reseller,active,,
"""
    outcome = run(session, write_csv(tmp_path, text))
    assert outcome.status == "rejected"
    assert [(p.line, p.field) for p in outcome.problems] == [
        (2, "Stage"),
        (3, "Partner Type"),
        (4, "Partner Manager"),
        (5, "Country"),
        (5, "Partner Type"),
        (6, "Partner ID"),
        (7, "Partner ID"),
    ]
    assert session.scalar(select(Partner.stage).where(Partner.crm_id == "P-5")) == "prospect"
    assert session.scalars(select(Partner.name).order_by(Partner.name)).all() == ["Echo"]


def test_partners_without_ids_match_by_name(session, tmp_path):
    make_partner(session, name="Acme Integrations", partner_type="reseller", website="")
    text = "Partner Name,Partner Type,Website\nacme integrations,reseller,https://acme.example\n"
    outcome = run(session, write_csv(tmp_path, text))
    assert (outcome.new, outcome.updated) == (0, 1)
    assert session.scalars(select(Partner.website)).all() == ["https://acme.example"]


def test_a_tier_or_program_the_list_changes_is_dated_in_the_partners_history(session, tmp_path):
    """Acme moves Gold → Silver in Resell and Beta joins Resell: both lines dated the import's day, so the
    tier held before it stays Gold for commissions (partners/tier_history.py)."""
    make_user(session, Role.PARTNER_MANAGER, email="pm@example.com", name="Pat Manager")
    run(session, write_csv(tmp_path, PARTNERS))
    moved = PARTNERS.replace(
        "P-1,Acme Integrations,Systems Integrator,Resell,Gold",
        "P-1,Acme Integrations,Systems Integrator,Resell,Silver",
    )
    moved = moved.replace(
        "P-2,Beta Apps,Technology Partner,Tech Alliance,,", "P-2,Beta Apps,Technology Partner,Resell,Gold,"
    )
    assert run(session, write_csv(tmp_path, moved)).updated == 2
    acme, beta = _partner(session, "P-1"), _partner(session, "P-2")
    lines = session.execute(
        select(
            PartnerChange.partner_id,
            PartnerChange.field,
            PartnerChange.old_value,
            PartnerChange.new_value,
            PartnerChange.changed_on,
        )
        .where(PartnerChange.field.in_(["tier", "program"]))
        .order_by(PartnerChange.id)
    ).all()
    assert lines == [
        (acme.id, "tier", "Resell · Gold", "Resell · Silver", TODAY),
        (beta.id, "program", "", "Resell · Gold", TODAY),
    ]
    gold = session.scalar(select(Tier.id).where(Tier.name == "Gold"))
    silver = session.scalar(select(Tier.id).where(Tier.name == "Silver"))
    acme_periods = sorted(
        ((h.tier_id, h.since, h.until) for h in tiers_held(session) if h.partner_id == acme.id),
        key=lambda p: p[1] or date.min,
    )
    assert acme_periods == [(gold, None, TODAY), (silver, TODAY, None)]
    assert run(session, write_csv(tmp_path, moved)).updated == 0  # unchanged: no new line
    assert (
        session.scalar(select(func.count()).select_from(PartnerChange).where(PartnerChange.field == "tier"))
        == 1
    )
