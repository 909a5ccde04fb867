"""Rendering one reader's digest as a Message: a text part, an HTML part, follow-up links, goals' progress.

Each overlap links to the account's page and to the co-sell form asking that partner for help with
the account (prefilled); each referral links to its page. They are plain links to existing pages (the
reader signs in as usual), not one-time tokens.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from html import escape
from urllib.parse import quote

from ecoops.automation.digest.picks import Digest, OverlapPick, ReferralPick
from ecoops.automation.messages import Message
from ecoops.goals.models import MONEY_METRICS, Metric
from ecoops.goals.plan import GoalLine
from ecoops.goals.service import METRIC_LABELS

RANKING = (
    "How overlaps are ranked: accounts the partner lists among its customers come first (the warmest "
    "introduction), then the account's open opportunity amount, largest first, then the overlaps that "
    "began most recently. Open referrals are the ones waiting for review, approved and still running, "
    "or sent to a partner and waiting for its answer; newest first."
)


def _money(amount: Decimal, currency: str) -> str:
    return f"{amount:,.0f} {currency}"


def _overlap_links(base: str, pick: OverlapPick) -> tuple[str, str]:
    ask = f"{base}/mapping/partners/{pick.partner_id}/co-sell/{quote(pick.account_crm_id, safe='')}"
    return f"{base}/accounts/{pick.account_id}", ask


def _overlap_line(pick: OverlapPick, currency: str) -> str:
    since = f", overlapping since {pick.since.isoformat()}" if pick.since else ""
    pipeline = (
        f"open pipeline {_money(pick.open_amount, currency)}" if pick.open_amount else "no open pipeline"
    )
    population = pick.their_population or "list"
    return f"{pick.account_name} with {pick.partner_name} (their {population}): {pipeline}{since}"


def _referral_line(pick: ReferralPick) -> str:
    way = "from" if pick.direction == "inbound" else "to"
    kind = pick.kind.replace("_", " ")
    when = f"{pick.submitted_at:%Y-%m-%d}"
    return f"#{pick.referral_id} {pick.company}, {kind} {way} {pick.partner_name}: {pick.status} ({when})"


def _number(value: float | Decimal) -> str:
    return f"{value:,.0f}" if value == int(value) else f"{value:,.2f}"


def goal_line(line: GoalLine, currency: str) -> str:
    """ "Sourced revenue for partner Acme, quarter 2025-01-01 to 2025-03-31: 1,000 of 4,000 EUR (25 %),
    50 % of the period elapsed — behind"."""
    p, goal = line.progress, line.progress.goal
    unit = f" {currency}" if goal.metric in MONEY_METRICS else ""
    stage = f" ({goal.stage})" if goal.stage else ""
    actual = "not started" if p.actual is None else f"{_number(p.actual)} of {_number(goal.target)}{unit}"
    return (
        f"{METRIC_LABELS[Metric(goal.metric)]}{stage} for {line.scope_name}, {goal.period} "
        f"{goal.starts_on.isoformat()} to {goal.ends_on.isoformat()}: {actual} ({p.ratio:.0%}), "
        f"{p.elapsed:.0%} of the period elapsed — {p.status}"
    )


def render_digest(digest: Digest, *, base_url: str, currency: str, week_of: date) -> Message:
    base = base_url.rstrip("/")
    user = digest.user
    subject = (
        f"Your partner digest, week of {week_of.isoformat()}: "
        f"{len(digest.overlaps)} overlap(s), {len(digest.referrals)} open referral(s)"
        + (f", {len(digest.goals)} goal(s)" if digest.goals else "")
    )
    text = [f"Hi {user.name},", ""]
    html = [f"<p>Hi {escape(user.name)},</p>"]
    if digest.overlaps:
        text += ["Your accounts' best overlaps with partners:", ""]
        html += ["<h2>Your accounts' best overlaps with partners</h2>", "<ol>"]
        for pick in digest.overlaps:
            account, ask = _overlap_links(base, pick)
            line = _overlap_line(pick, currency)
            text += [f"- {line}", f"  Account: {account}", f"  Ask {pick.partner_name} for help: {ask}"]
            html.append(
                f'<li>{escape(line)}<br><a href="{escape(account)}">Open the account</a> · '
                f'<a href="{escape(ask)}">Ask {escape(pick.partner_name)} for help</a></li>'
            )
        text.append("")
        html.append("</ol>")
    if digest.referrals:
        text += ["Your open referrals:", ""]
        html += ["<h2>Your open referrals</h2>", "<ul>"]
        for referral in digest.referrals:
            link, line = f"{base}/referrals/{referral.referral_id}", _referral_line(referral)
            text += [f"- {line}", f"  {link}"]
            html.append(f'<li>{escape(line)}<br><a href="{escape(link)}">Follow up</a></li>')
        text.append("")
        html.append("</ul>")
    if digest.goals:
        goals_link = f"{base}/goals"
        text += ["Your goals (plan vs actual):", ""]
        html += ["<h2>Your goals (plan vs actual)</h2>", "<ul>"]
        for goal in digest.goals:
            words = goal_line(goal, currency)
            text.append(f"- {words}")
            html.append(f"<li>{escape(words)}</li>")
        text += [f"  All goals: {goals_link}", ""]
        html += ["</ul>", f'<p><a href="{escape(goals_link)}">All goals</a></p>']
    text += ["--", RANKING]
    html.append(f"<hr><p><small>{escape(RANKING)}</small></p>")
    return Message(
        subject=subject,
        text="\n".join(text),
        html="\n".join(html),
        link=f"{base}/mapping/co-sell",
    )
