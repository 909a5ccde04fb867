"""An independent, plain-Python reading of METRICS.md (and the choices in docs/metrics.md), record by record.

Slow and obvious on purpose: loops over lists of dicts, no SQL, no Arrow. The property tests check the
engine against it on random scenarios; it never imports the engine's logic.
"""

from __future__ import annotations

import calendar
import itertools
import math
import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from statistics import NormalDist
from typing import Any

from ecoops.engines.metrics import NO_FILTERS, Filters
from tests.engines.metrics.factories import Row, Scenario

SOURCING = {"referral", "deal_registration", "crm_source"}
INFLUENCE = {"co_sell", "overlap", "content", "marketplace"}
SIGNED = {"signed", "onboarding", "active", "producing"}
STAGES = ["prospect", "recruiting", "signed", "onboarding", "active", "producing", "churned"]
CLASSES = ["sourced", "influenced", "direct"]
MODELS = ["sourced", "first_touch", "last_touch", "linear", "time_decay", "position"]


@dataclass(frozen=True)
class Config:
    as_of: date
    start: date
    end: date
    grace: int = 7
    look_back: int = 90
    half_life: float = 30.0
    # The engine's filter record, read here field by field (it carries no logic the reference needs).
    filters: Filters = NO_FILTERS

    @property
    def selects_partners(self) -> bool:
        f = self.filters
        return any((f.partner_ids, f.program_ids, f.tier_ids, f.partner_types, f.partner_owner_ids))


def total(values: list[Any]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) if present else None


def mean(values: list[Any]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.fmean(present) if present else None


def median(values: list[Any]) -> float | None:
    present = [v for v in values if v is not None]
    return float(statistics.median(present)) if present else None


def ratio(part: float | None, whole: float | None) -> float | None:
    if part is None or not whole:
        return None
    return part / whole


def shift_months(day: date, months: int) -> date:
    month_index = day.year * 12 + day.month - 1 + months
    year, month = divmod(month_index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def in_period(day: date | None, c: Config) -> bool:
    return day is not None and c.start <= day <= c.end


class Reference:
    """Every figure of a scenario on `config.as_of`, each method named after the engine's figure."""

    def __init__(self, scenario: Scenario, config: Config) -> None:
        self.s = scenario
        self.c = config
        self.year_before = shift_months(config.as_of, -12)
        self.states = self._states()
        self.verdicts = self._verdicts()
        self.classes = self._classes()
        self.credited = self._credited()
        self.partner_scope = self._partner_scope()
        self.spells = self._spells()

    # --- opportunities ----------------------------------------------------------------------------

    def _states(self) -> dict[str, Row]:
        d = self.c.as_of
        changes: dict[str, list[Row]] = defaultdict(list)
        for change in self.s.opportunity_stage_changes:
            changes[change["opportunity_crm_id"]].append(change)
        states = {}
        for o in self.s.opportunities:
            if o["created_on"] > d:
                continue
            state = {k: o[k] for k in ("account_crm_id", "amount", "created_on", "owner")}
            history = sorted(changes.get(o["crm_id"], []), key=lambda c: (c["changed_on"], c["change_id"]))
            if history:
                known = [c for c in history if c["changed_on"] <= d]
                last = known[-1] if known else None
                closed = bool(last and last["is_closed"])
                state |= {
                    "is_closed": closed,
                    "is_won": closed and bool(last and last["is_won"]),
                    "close_date": last["changed_on"] if last and closed else None,
                }
            else:
                closed = o["is_closed"] and o["close_date"] <= d
                state |= {
                    "is_closed": closed,
                    "is_won": closed and o["is_won"],
                    "close_date": o["close_date"] if closed else None,
                }
            states[o["crm_id"]] = state
        return states

    def _verdicts(self) -> list[Row]:
        d, c = self.c.as_of, self.c
        out = []
        for t in self.s.touches:
            if t["opportunity_crm_id"]:
                targets = [t["opportunity_crm_id"]] if t["opportunity_crm_id"] in self.states else []
                via = "opportunity"
            else:
                targets = [k for k, o in self.states.items() if o["account_crm_id"] == t["account_crm_id"]]
                via = "account"
            for target in targets:
                o = self.states[target]
                end = o["close_date"] or d
                cls = (
                    "sourcing"
                    if t["kind"] in SOURCING
                    else "influence"
                    if t["kind"] in INFLUENCE
                    else "delivery"
                )
                if t["status"] != "confirmed":
                    verdict = "status_not_counted"
                elif t["touched_on"] > d:
                    verdict = "after_as_of"
                elif t["touched_on"] > end:
                    verdict = "after_close"
                elif cls == "delivery":
                    verdict = "delivery_no_credit"
                elif cls == "sourcing" and t["touched_on"] > o["created_on"] + timedelta(c.grace):
                    verdict = "after_grace"
                elif (cls == "influence" or via == "account") and t["touched_on"] < o[
                    "created_on"
                ] - timedelta(c.look_back):
                    verdict = "before_look_back"
                else:
                    verdict = "counts"
                out.append(t | {"opportunity_crm_id": target, "touch_class": cls, "verdict": verdict})
        return out

    def counting(self, opportunity_crm_id: str) -> list[Row]:
        return [
            v
            for v in self.verdicts
            if v["opportunity_crm_id"] == opportunity_crm_id and v["verdict"] == "counts"
        ]

    def _classes(self) -> dict[str, tuple[str, int | None]]:
        out = {}
        for crm_id in self.states:
            touches = self.counting(crm_id)
            sourcing = [t for t in touches if t["touch_class"] == "sourcing"]
            if sourcing:
                first = min(sourcing, key=lambda t: (t["touched_on"], t["partner_id"]))
                out[crm_id] = ("sourced", first["partner_id"])
            elif any(t["touch_class"] == "influence" for t in touches):
                out[crm_id] = ("influenced", None)
            else:
                out[crm_id] = ("direct", None)
        return out

    def _credited(self) -> dict[str, set[int]]:
        out: dict[str, set[int]] = {}
        for crm_id, (cls, source) in self.classes.items():
            if cls == "sourced":
                out[crm_id] = {source}  # type: ignore[arg-type]
            elif cls == "influenced":
                out[crm_id] = {t["partner_id"] for t in self.counting(crm_id)}
            else:
                out[crm_id] = set()
        return out

    # --- scopes -------------------------------------------------------------------------------------

    def _partner_scope(self) -> set[int]:
        known = {
            r["partner_id"]
            for name in ("partners", "touches", "partner_stage_changes", "referrals", "overlaps")
            for r in getattr(self.s, name)
        }
        if not self.c.selects_partners:
            return known
        f = self.c.filters
        partners = {p["partner_id"]: p for p in self.s.partners}
        chosen = set()
        for pid in known:
            p = partners.get(pid)
            if f.partner_ids and pid not in f.partner_ids:
                continue
            if f.partner_types and (p is None or p["partner_type"] not in f.partner_types):
                continue
            if f.partner_owner_ids and (p is None or p["owner_id"] not in f.partner_owner_ids):
                continue
            if (f.program_ids or f.tier_ids) and not any(
                m["partner_id"] == pid
                and (not f.program_ids or m["program_id"] in f.program_ids)
                and (not f.tier_ids or m["tier_id"] in f.tier_ids)
                for m in self.s.memberships
            ):
                continue
            chosen.add(pid)
        return chosen

    def owner_scope(self) -> dict[str, Row]:
        owners = self.c.filters.opportunity_owners
        return {k: o for k, o in self.states.items() if not owners or o["owner"] in owners}

    def scope(self) -> dict[str, Row]:
        out = {}
        for k, o in self.owner_scope().items():
            cls = self.classes[k][0]
            if not self.c.selects_partners or cls == "direct" or self.credited[k] & self.partner_scope:
                out[k] = o | {"classification": cls}
        return out

    # --- revenue, pipeline ------------------------------------------------------------------------

    def classification(self) -> dict[str, int]:
        counts = dict.fromkeys(CLASSES, 0)
        for o in self.scope().values():
            counts[o["classification"]] += 1
        return counts

    def revenue(self) -> dict[str, tuple[int, float | None]]:
        out = {}
        for cls in ("sourced", "influenced"):
            won = [
                o
                for o in self.scope().values()
                if o["classification"] == cls and o["is_won"] and in_period(o["close_date"], self.c)
            ]
            out[cls] = (len(won), total([o["amount"] for o in won]))
        return out

    def pipeline(self) -> dict[str, tuple[int, float | None]]:
        out = {}
        for cls in CLASSES:
            open_ = [o for o in self.scope().values() if o["classification"] == cls and not o["is_closed"]]
            out[cls] = (len(open_), total([o["amount"] for o in open_]))
        return out

    # --- attribution --------------------------------------------------------------------------------

    def shares(self, crm_id: str) -> dict[int, dict[str, float]]:
        """Each partner's share of one won opportunity under every model."""
        o = self.states[crm_id]
        touches = sorted(
            self.counting(crm_id), key=lambda t: (t["touched_on"], t["partner_id"], t["touch_id"])
        )
        if not touches:
            return {}
        partners = sorted({t["partner_id"] for t in touches})
        out = {p: dict.fromkeys(MODELS, 0.0) for p in partners}
        cls, source = self.classes[crm_id]
        if cls == "sourced":
            out[source]["sourced"] = 1.0  # type: ignore[index]
        out[touches[0]["partner_id"]]["first_touch"] = 1.0
        latest = max(t["touched_on"] for t in touches)
        out[min(t["partner_id"] for t in touches if t["touched_on"] == latest)]["last_touch"] = 1.0
        for p in partners:
            out[p]["linear"] = 1 / len(partners)
        weights = [2 ** (-(o["close_date"] - t["touched_on"]).days / self.c.half_life) for t in touches]
        for t, w in zip(touches, weights, strict=True):
            out[t["partner_id"]]["time_decay"] += w / sum(weights)
        n = len(touches)
        for i, t in enumerate(touches):
            if n == 1:
                share = 1.0
            elif n == 2:
                share = 0.5
            else:
                share = 0.4 if i in (0, n - 1) else 0.2 / (n - 2)
            out[t["partner_id"]]["position"] += share
        return out

    def attribution(self) -> dict[tuple[str, int], tuple[int, float | None]]:
        credit: dict[tuple[str, int], list[float | None]] = defaultdict(list)
        for crm_id, o in self.owner_scope().items():
            if not (o["is_won"] and in_period(o["close_date"], self.c)):
                continue
            for partner, shares in self.shares(crm_id).items():
                if partner not in self.partner_scope:
                    continue
                for model, share in shares.items():
                    if share > 0:
                        credit[(model, partner)].append(None if o["amount"] is None else o["amount"] * share)
        return {key: (len(values), total(values)) for key, values in credit.items()}

    # --- overlays -------------------------------------------------------------------------------------

    def overlays(self) -> dict[str, dict[str, Any]]:
        out = {}
        for cls in CLASSES:
            mine = [o for o in self.scope().values() if o["classification"] == cls]
            closed = [o for o in mine if o["is_closed"] and in_period(o["close_date"], self.c)]
            won = [o for o in closed if o["is_won"]]
            open_count = sum(not o["is_closed"] for o in mine)
            cycles = [(o["close_date"] - o["created_on"]).days for o in won]
            win_rate = ratio(len(won), len(closed))
            deal = mean([o["amount"] for o in won])
            cycle = mean(cycles)
            velocity = None
            if win_rate is not None and deal is not None and cycle:
                velocity = open_count * win_rate * deal / cycle
            out[cls] = {
                "open_opportunities": open_count,
                "closed": len(closed),
                "won": len(won),
                "win_rate": win_rate,
                "average_deal_size": deal,
                "mean_days_to_close": cycle,
                "median_days_to_close": median(cycles),
                "pipeline_velocity": velocity,
            }
        return out

    def days_in_stage(self) -> dict[tuple[str, str], tuple[int, float | None]]:
        scope = self.scope()
        days: dict[tuple[str, str], list[int]] = defaultdict(list)
        stages = set()
        history: dict[str, list[Row]] = defaultdict(list)
        for change in self.s.opportunity_stage_changes:
            if change["changed_on"] <= self.c.as_of:
                history[change["opportunity_crm_id"]].append(change)
        for crm_id, changes in history.items():
            if crm_id not in scope:
                continue
            changes.sort(key=lambda c: (c["changed_on"], c["change_id"]))
            for visit, following in itertools.pairwise(changes):
                if in_period(following["changed_on"], self.c):
                    stages.add(visit["stage"])
                    days[(scope[crm_id]["classification"], visit["stage"])].append(
                        (following["changed_on"] - visit["changed_on"]).days
                    )
        return {(cls, st): (len(days[(cls, st)]), mean(days[(cls, st)])) for cls in CLASSES for st in stages}

    # --- partner life cycle ------------------------------------------------------------------------

    def _spells(self) -> dict[int, list[Row]]:
        by_partner: dict[int, list[Row]] = defaultdict(list)
        for change in self.s.partner_stage_changes:
            if change["changed_on"] <= self.c.as_of:
                by_partner[change["partner_id"]].append(change)
        spells: dict[int, list[Row]] = {}
        for pid, changes in by_partner.items():
            changes.sort(key=lambda c: (c["changed_on"], c["change_id"]))
            mine: list[Row] = []
            signed, recruiting_since = False, None
            for change in changes:
                now_signed = change["to_stage"] in SIGNED
                if now_signed and not signed:
                    mine.append(
                        {
                            "signed_on": change["changed_on"],
                            "left_on": None,
                            "recruiting_began_on": recruiting_since,
                        }
                    )
                elif signed and not now_signed:
                    mine[-1]["left_on"] = change["changed_on"]
                    recruiting_since = None
                if change["to_stage"] == "recruiting" and recruiting_since is None and not now_signed:
                    recruiting_since = change["changed_on"]
                if now_signed:
                    recruiting_since = None
                signed = now_signed
            spells[pid] = mine
        return spells

    def partners_per_stage(self) -> dict[str, int]:
        counts = dict.fromkeys(STAGES, 0)
        latest: dict[int, Row] = {}
        for change in sorted(self.s.partner_stage_changes, key=lambda c: (c["changed_on"], c["change_id"])):
            if change["changed_on"] <= self.c.as_of and change["partner_id"] in self.partner_scope:
                latest[change["partner_id"]] = change
        for change in latest.values():
            counts[change["to_stage"]] += 1
        return counts

    def time_to_recruit(self) -> dict[str, Any]:
        days = []
        for pid, spells in self.spells.items():
            for spell in spells:
                if pid in self.partner_scope and in_period(spell["signed_on"], self.c):
                    began = spell["recruiting_began_on"]
                    days.append(None if began is None else (spell["signed_on"] - began).days)
        return {
            "signings": len(days),
            "measured": sum(d is not None for d in days),
            "mean_days": mean(days),
            "median_days": median(days),
        }

    def first_revenue(self) -> dict[str, Any]:
        days = []
        for pid, spells in self.spells.items():
            if pid not in self.partner_scope or not spells or not in_period(spells[0]["signed_on"], self.c):
                continue
            signed_on = spells[0]["signed_on"]
            closes = [
                o["close_date"]
                for k, o in self.states.items()
                if o["is_won"] and pid in self.credited[k] and o["close_date"] >= signed_on
            ]
            days.append((min(closes) - signed_on).days if closes else None)
        activated = sum(d is not None for d in days)
        return {
            "signed_partners": len(days),
            "activated_partners": activated,
            "not_yet": len(days) - activated,
            "activation_rate": ratio(activated, len(days)),
            "mean_days_to_first_revenue": mean(days),
            "median_days_to_first_revenue": median(days),
        }

    def tenure_and_retention(self) -> dict[str, Any]:
        tenures, cohort, retained = [], 0, 0
        for pid, spells in self.spells.items():
            if pid not in self.partner_scope or not spells:
                continue
            tenures.append(sum(((s["left_on"] or self.c.as_of) - s["signed_on"]).days for s in spells))
            anniversary = shift_months(spells[0]["signed_on"], 12)
            if anniversary <= self.c.as_of:
                cohort += 1
                left = spells[0]["left_on"]
                retained += left is None or left > anniversary
        return {
            "signed_partners": len(tenures),
            "mean_tenure_days": mean(tenures),
            "retention_cohort": cohort,
            "retained": retained,
            "retention_rate": ratio(retained, cohort),
        }

    def _memberships(self) -> list[Row]:
        f = self.c.filters
        return [
            m
            for m in self.s.memberships
            if m["partner_id"] in self.partner_scope
            and (not f.program_ids or m["program_id"] in f.program_ids)
            and (not f.tier_ids or m["tier_id"] in f.tier_ids)
        ]

    def partners_needed(self, target: float) -> dict[int, dict[str, Any]]:
        window_first_day = self.year_before + timedelta(1)
        out = {}
        for program in sorted({m["program_id"] for m in self._memberships()}):
            members = {m["partner_id"] for m in self._memberships() if m["program_id"] == program}
            active = {
                pid
                for pid in members
                if any(
                    s["left_on"] is None or s["left_on"] > window_first_day for s in self.spells.get(pid, [])
                )
            }
            won = [
                o
                for k, o in self.states.items()
                if o["is_won"] and o["close_date"] > self.year_before and self.credited[k] & members
            ]
            revenue = total([o["amount"] for o in won])
            productivity = ratio(revenue, len(active))
            out[program] = {
                "active_partners": len(active),
                "won_opportunities": len(won),
                "revenue": revenue,
                "productivity": productivity,
                "partners_needed": math.ceil(target / productivity) if productivity else None,
            }
        return out

    # --- referrals, overlaps ---------------------------------------------------------------------------

    def _holds_on_as_of(self, overlap: Row) -> bool:
        d = self.c.as_of
        return overlap["began_on"] <= d and (overlap["ended_on"] is None or overlap["ended_on"] > d)

    def _period_referrals(self) -> list[Row]:
        return [
            r
            for r in self.s.referrals
            if in_period(r["created_on"], self.c)
            and r["created_on"] <= self.c.as_of
            and r["partner_id"] in self.partner_scope
        ]

    def give_and_get(self) -> dict[int, dict[str, Any]]:
        out = {}
        for pid in self.partner_scope:
            sent = [
                r["declared_value"]
                for r in self._period_referrals()
                if r["partner_id"] == pid and r["direction"] == "out"
            ]
            received = [
                r["declared_value"]
                for r in self._period_referrals()
                if r["partner_id"] == pid and r["direction"] == "in"
            ]
            accounts = {
                v["our_account_crm_id"]
                for v in self.s.overlaps
                if v["partner_id"] == pid
                and self._holds_on_as_of(v)
                and v["our_population"] == "open_opportunities"
            }
            shared = [
                k
                for k, o in self.owner_scope().items()
                if not o["is_closed"] and o["account_crm_id"] in accounts
            ]
            out[pid] = {
                "referrals_sent": len(sent),
                "value_sent": total(sent),
                "referrals_received": len(received),
                "value_received": total(received),
                "shared_open_opportunities": len(shared),
            }
        return out

    def eql_pre_pipeline(self) -> dict[str, Any]:
        accounts = {
            v["our_account_crm_id"]
            for v in self.s.overlaps
            if self._holds_on_as_of(v)
            and v["partner_id"] in self.partner_scope
            and v["our_population"] in ("prospects", "open_opportunities")
            and v["partner_population"] == "customers"
        }
        scope = self.owner_scope()
        average = mean(
            [o["amount"] for o in scope.values() if o["is_won"] and o["close_date"] > self.year_before]
        )
        values, at_average = [], 0
        for account in accounts:
            open_ = [o for o in scope.values() if o["account_crm_id"] == account and not o["is_closed"]]
            if open_:
                values.append(total([o["amount"] for o in open_]))
            else:
                at_average += 1
                values.append(average)
        value = None if at_average and average is None else total(values)
        return {"accounts": len(accounts), "valued_at_average": at_average, "value": value}

    def eql_funnel(self) -> dict[str, Any]:
        eqls = self._period_referrals()
        became = [r for r in eqls if r["opportunity_crm_id"] in self.states]
        opportunities = {r["opportunity_crm_id"] for r in became}
        won = [k for k in opportunities if self.states[k]["is_won"]]
        return {
            "eqls": len(eqls),
            "eql_value": total([r["declared_value"] for r in eqls]),
            "sqls": len(became),
            "sql_opportunities": len(opportunities),
            "sql_amount": total([self.states[k]["amount"] for k in opportunities]),
            "eql_to_sql_conversion": ratio(len(became), len(eqls)),
            "won_opportunities": len(won),
            "won_amount": total([self.states[k]["amount"] for k in won]),
        }

    def forecast(self) -> dict[tuple[str, int, str], dict[str, Any]]:
        window_first_day = self.year_before + timedelta(1)
        z = NormalDist().inv_cdf(0.9)
        held: dict[tuple[str, int, str], dict[str, list[Row]]] = defaultdict(lambda: defaultdict(list))
        for v in self.s.overlaps:
            if v["partner_id"] not in self.partner_scope or v["began_on"] > self.c.as_of:
                continue
            if v["ended_on"] is None or v["ended_on"] > window_first_day:
                held[(v["our_population"], v["partner_id"], v["partner_population"])][
                    v["our_account_crm_id"]
                ].append(v)
        deal = mean(
            [
                o["amount"]
                for k, o in self.states.items()
                if o["is_won"] and o["close_date"] > self.year_before and self.classes[k][0] != "direct"
            ]
        )
        out = {}
        for (ours, pid, theirs), accounts in held.items():
            now = sum(any(self._holds_on_as_of(v) for v in rows) for rows in accounts.values())
            if not now:
                continue
            converted = 0
            for account, rows in accounts.items():
                began = min(v["began_on"] for v in rows)
                converted += any(
                    o["account_crm_id"] == account
                    and o["is_won"]
                    and pid in self.credited[k]
                    and o["close_date"] > self.year_before
                    and o["close_date"] >= began
                    for k, o in self.states.items()
                )
            n = len(accounts)
            p = converted / n
            centre = (p + z * z / (2 * n)) / (1 + z * z / n)
            half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
            low, high = max(centre - half, 0.0), min(centre + half, 1.0)
            out[(ours, pid, theirs)] = {
                "overlap_accounts": now,
                "accounts_in_year": n,
                "converted_accounts": converted,
                "conversion_rate": p,
                "conversion_low": low,
                "conversion_high": high,
                "average_deal_size": deal,
                "forecast": None if deal is None else now * p * deal,
                "forecast_low": None if deal is None else now * low * deal,
                "forecast_high": None if deal is None else now * high * deal,
            }
        return out
