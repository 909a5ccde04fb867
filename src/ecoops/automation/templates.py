"""Message templates: a small Jinja2 subject and body per event kind, editable in each rule.

Templates are written by users, so they run in Jinja's sandbox; a missing payload key renders empty
rather than failing a delivery. The variables are the event's payload (see docs/automation.md), plus
`kind`, `occurred_at`, `currency`, `partner_id`, `account_crm_id`, `opportunity_crm_id` and `link` (absolute).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jinja2 import Template, TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment

from ecoops.accounts.service import InvalidInput
from ecoops.automation.messages import Button, Message
from ecoops.events.models import Event, EventKind

MAX_TEMPLATE = 4000
_env = SandboxedEnvironment(autoescape=False, trim_blocks=True, lstrip_blocks=True)

_REFERRAL = "{{ referral_kind_label }} #{{ referral_id }} from {{ partner_name }}: {{ company }}"
_OUT, _END = "{% if direction == 'outbound' %}", "{% endif %}"  # our referral to the partner, or theirs
DEFAULTS: dict[EventKind, tuple[str, str]] = {
    EventKind.OVERLAP_BEGAN: (
        "New overlap: {{ account_name }} is in {{ partner_name }}'s {{ population or 'list' }}",
        "{{ account_name }} (owner: {{ account_owner or 'nobody' }}) now appears in {{ partner_name }}'s "
        "{{ population or 'list' }}.{% if amount %} Open pipeline: {{ amount }} {{ currency }}.{% endif %}",
    ),
    EventKind.OVERLAP_ENDED: (
        "Overlap ended: {{ account_name }} left {{ partner_name }}'s {{ population or 'list' }}",
        "{{ account_name }} no longer appears in {{ partner_name }}'s {{ population or 'list' }}.",
    ),
    EventKind.REFERRAL_SUBMITTED: (
        _OUT
        + "Referred to {{ partner_name }}: {{ company }} (#{{ referral_id }}){% else %}New "
        + _REFERRAL
        + _END,
        _OUT + "{{ submitted_by }} referred {{ company }} to {{ partner_name }}; it waits for their answer."
        "{% else %}{{ partner_name }} submitted {{ company }}{% if amount %} (estimated {{ amount }} "
        "{{ currency }}){% endif %}. It waits for review." + _END,
    ),
    EventKind.REFERRAL_APPROVED: (
        _OUT + "Accepted by {{ partner_name }}: {{ company }}{% else %}Approved: " + _REFERRAL + _END,
        _OUT
        + "{{ partner_name }} took on {{ company }}.{% else %}{{ company }} was approved by {{ reviewer }}."
        + _END,
    ),
    EventKind.REFERRAL_REJECTED: (
        _OUT + "Declined by {{ partner_name }}: {{ company }}{% else %}Rejected: " + _REFERRAL + _END,
        _OUT + "{{ partner_name }} declined {{ company }}{% if reason %}: {{ reason }}{% endif %}."
        "{% else %}{{ company }} was rejected by {{ reviewer }}: {{ reason }}" + _END,
    ),
    EventKind.REFERRAL_SLA_BREACHED: (
        _OUT + "Unanswered by {{ partner_name }}: {{ company }}{% else %}Overdue: " + _REFERRAL + _END,
        _OUT + "{{ partner_name }} has not answered our request about {{ company }} by its SLA "
        "(due {{ sla_due_at }}).{% else %}{{ company }} has waited for review past its SLA "
        "(due {{ sla_due_at }})." + _END,
    ),
    EventKind.REGISTRATION_EXPIRING: (
        "Deal registration expiring: {{ company }} ({{ partner_name }})",
        "{{ partner_name }}'s registration of {{ company }} expires on {{ expires_on }}.",
    ),
    EventKind.OPPORTUNITY_WON: (
        "Won with {{ partner_name }}: {{ opportunity_name }}",
        "{{ opportunity_name }} ({{ account_name }}) was won{% if amount %}: {{ amount }} {{ currency }}"
        "{% endif %}.",
    ),
    EventKind.OPPORTUNITY_LOST: (
        "Lost: {{ opportunity_name }} ({{ partner_name }})",
        "{{ opportunity_name }} ({{ account_name }}) was lost.",
    ),
    EventKind.PARTNER_STAGE_CHANGED: (
        "{{ partner_name }} moved to {{ to_stage }}",
        "{{ partner_name }} moved from {{ from_stage or 'nothing' }} to {{ to_stage }} on {{ on }}.",
    ),
    EventKind.PARTNER_INACTIVE: (
        "{{ partner_name }} has been quiet for {{ days }} days",
        "No referral, touch or stage change from {{ partner_name }} since {{ last_activity }}.",
    ),
    EventKind.PARTNER_LIST_UPLOADED: (
        "{{ partner_name }} uploaded a new account list",
        "{{ partner_name }}'s list {{ filename }} ({{ rows }} accounts) was uploaded.",
    ),
    EventKind.PARTNER_APPLICATION_SUBMITTED: (
        "New partner application: {{ company }}",
        "{{ contact_name }} ({{ email }}) applied for {{ company }} ({{ domain }}) to join "
        "{{ program or 'a program' }}. Review it: {{ link }}",
    ),
    EventKind.TIER_CHANGE_PROPOSED: (
        "Tier {{ direction }} proposed: {{ partner_name }} to {{ to_tier }}",
        "The tier evaluation of {{ as_of }} proposes moving {{ partner_name }} from "
        "{{ from_tier or 'no tier' }} to {{ to_tier }} in {{ program_name }}. It waits for review.",
    ),
    EventKind.INFLUENCE_LOGGED: (
        "{{ partner_name }}'s {{ activity_label }} on {{ deal_name }}: please confirm",
        "{{ logged_by }} logged {{ partner_name }}'s {{ activity_label }} on {{ happened_on }} for "
        "{{ deal_name }} (owner: {{ account_owner or 'nobody' }}): {{ note }}\n"
        "Confirm or dispute it: {{ link }}",
    ),
    EventKind.INFLUENCE_CONFIRMED: (
        "Confirmed: {{ partner_name }}'s {{ activity_label }} on {{ deal_name }}",
        "{{ reviewer }} confirmed {{ partner_name }}'s {{ activity_label }} of {{ happened_on }}; "
        "it now counts.",
    ),
    EventKind.INFLUENCE_DISPUTED: (
        "Disputed: {{ partner_name }}'s {{ activity_label }} on {{ deal_name }}",
        "{{ reviewer }} disputed {{ partner_name }}'s {{ activity_label }} of {{ happened_on }}: "
        "{{ reason }}",
    ),
    EventKind.COMMISSION_APPROVED: (
        "Commission approved for {{ partner_name }}: {{ amount }} {{ currency }}",
        "{{ explanation }}",
    ),
    EventKind.STATEMENT_READY: (
        "Commission statement ready: {{ partner_name }}, {{ period }}",
        "Every line of {{ partner_name }}'s commission statement for {{ period }} is decided.",
    ),
    EventKind.FUND_CLAIM_SUBMITTED: (
        "Partner funds claim #{{ request_id }} from {{ partner_name }}: {{ amount }} {{ currency }}",
        "{{ partner_name }} claims {{ amount }} {{ currency }} with proof of performance for: "
        "{{ activity }}. It waits for review.",
    ),
    EventKind.FUND_CLAIM_APPROVED: (
        "Partner funds claim #{{ request_id }} of {{ partner_name }} approved: {{ amount }} {{ currency }}",
        "{{ partner_name }}'s claim for {{ activity }} is approved and will be reimbursed with the next "
        "commission payment.",
    ),
}


def check_template(text: str) -> None:
    """Refuse a template that does not parse, naming the line."""
    if len(text) > MAX_TEMPLATE:
        raise InvalidInput(f"a template is at most {MAX_TEMPLATE} characters")
    try:
        _env.parse(text)
    except TemplateSyntaxError as error:
        raise InvalidInput(f"template error on line {error.lineno}: {error.message}") from None


def variables(event: Event, base_url: str, currency: str) -> dict[str, Any]:
    payload = dict(event.payload or {})
    link = str(payload.get("link", ""))
    return {
        "currency": currency,
        **payload,
        "kind": event.kind,
        "occurred_at": event.occurred_at.isoformat(timespec="minutes"),
        "partner_id": event.partner_id,
        "account_crm_id": event.account_crm_id,
        "opportunity_crm_id": event.opportunity_crm_id,
        "referral_kind_label": str(payload.get("referral_kind", "referral")).replace("_", " ").capitalize(),
        "link": base_url.rstrip("/") + link if link.startswith("/") else link,
    }


@lru_cache(maxsize=512)
def _compiled(template: str) -> Template:
    # Compiling is most of a message's cost, and a rule sends the same template many times.
    return _env.from_string(template)


def render_text(template: str, context: dict[str, Any]) -> str:
    return _compiled(template).render(context).strip()


def build_message(
    event: Event,
    *,
    subject_template: str,
    body_template: str,
    base_url: str,
    currency: str,
    mention: str = "",
) -> Message:
    """The message for `event`; deal registrations waiting for review carry Approve/Reject buttons, and
    logged influence Confirm/Dispute."""
    default_subject, default_body = DEFAULTS[EventKind(event.kind)]
    context = variables(event, base_url, currency)
    subject = render_text(subject_template or default_subject, context)
    text = render_text(body_template or default_body, context)
    buttons: tuple[Button, ...] = ()
    payload = event.payload or {}
    waiting = payload.get("direction", "inbound") == "inbound"  # only inbound referrals wait for our review
    if (
        event.kind == EventKind.REFERRAL_SUBMITTED
        and payload.get("referral_kind") == "deal_registration"
        and waiting
    ):
        referral = str(payload.get("referral_id", ""))
        buttons = (
            Button("Approve", "registration.approve", referral, url=context["link"], style="primary"),
            Button("Reject", "registration.reject", referral, url=context["link"], style="danger"),
        )
    if event.kind == EventKind.INFLUENCE_LOGGED:
        # To the deal owner (or a partner manager): confirm here; a dispute needs a reason, given on the page.
        log = str(payload.get("influence_log_id", ""))
        buttons = (
            Button("Confirm", "influence.confirm", log, url=context["link"], style="primary"),
            Button("Dispute…", "influence.dispute", log, url=context["link"], style="danger"),
        )
    return Message(
        subject=subject[:200],
        text=text,
        link=context["link"],
        buttons=buttons,
        mention=mention,
    )
