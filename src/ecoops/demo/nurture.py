"""The demo's nurture sequences: onboarding (welcome and playbook, a week's check-in, a first-referral
nudge) and recruiting (the partner manager's overview and follow-up), both switched on.

Partners already in those stages are enrolled at the worker's first tick; steps that fell due before
the demo was seeded are skipped, not back-filled, so only what is still ahead of them is sent.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from ecoops.actors import Actor
from ecoops.automation.nurture.sequences import StepInput, add_step, create_sequence, set_enabled
from ecoops.partners.models import Stage

PLAYBOOK = "https://partners.example.com/playbook"

SEQUENCES: tuple[tuple[str, Stage, str, tuple[StepInput, ...]], ...] = (
    (
        "Onboarding",
        Stage.ONBOARDING,
        "Welcome, check-in and first-referral nudge for newly signed partners.",
        (
            StepInput(
                "0",
                "partner_email",
                "Welcome to the partner program, {{ partner_name }}",
                "Hi {{ recipient_name }},\n\nWelcome aboard! Our partner playbook walks you through the "
                "program, co-selling and how referrals work.\n\n{{ manager_name }}, your partner manager",
                content_url=PLAYBOOK,
                content_title="Partner playbook",
            ),
            StepInput(
                "7",
                "partner_email",
                "How is onboarding going, {{ partner_name }}?",
                "Hi {{ recipient_name }},\n\nA week in: anything we can help with? Reply to this e-mail or "
                "book a call with {{ manager_name }} ({{ manager_email }}).",
            ),
            StepInput(
                "14",
                "partner_email",
                "Handing over shared customers, {{ partner_name }}",
                "Hi {{ recipient_name }},\n\nWhen a customer we share goes live, our CS team and yours "
                "meet once to agree who does what. {{ manager_name }} will set up the first one.",
                contact_role="cs",
            ),
            StepInput(
                "7",
                "manager_task",
                "Check in with {{ partner_name }} (a week into onboarding)",
                "{{ partner_name }} entered onboarding on {{ stage_since }}. See {{ partner_page }}.",
            ),
            StepInput(
                "30",
                "partner_email",
                "Ready for your first referral, {{ recipient_name }}?",
                "Hi {{ recipient_name }},\n\nThe quickest way to value is one shared customer. Submit your "
                "first referral in the portal: {{ portal_link }}/referrals/new",
            ),
        ),
    ),
    (
        "Recruiting",
        Stage.RECRUITING,
        "Keeps the partner manager on a recruit until it signs.",
        (
            StepInput(
                "0",
                "manager_email",
                "Recruiting {{ partner_name }}: send the program overview",
                "{{ partner_name }} is being recruited since {{ stage_since }}. "
                "Send them the program overview and the playbook.",
                content_url=PLAYBOOK,
                content_title="Partner playbook",
            ),
            StepInput(
                "14",
                "manager_task",
                "Follow up with {{ partner_name }} on the partner agreement",
                "Two weeks in recruiting: {{ partner_page }}",
            ),
        ),
    ),
)


def seed_nurture(session: Session, actor: Actor) -> int:
    """Create and switch on the demo sequences; how many."""
    for name, stage, description, steps in SEQUENCES:
        sequence = create_sequence(session, actor, name=name, stage=stage.value, description=description)
        for step in steps:
            add_step(session, actor, sequence, step)
        set_enabled(session, actor, sequence, True)
    return len(SEQUENCES)
