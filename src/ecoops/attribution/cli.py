"""`ecoops touches`: list proposed touches and confirm or dispute them in batches, from the shell.

Exit status: 0 decided (or listed); 1 nothing to decide; 2 a bad argument (no reason, an unknown touch).
"""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session, sessionmaker

from ecoops.actors import cli_actor
from ecoops.attribution import review
from ecoops.attribution.models import TouchKind
from ecoops.config import get_settings
from ecoops.db import make_engine, migrate, session_factory, transaction
from ecoops.permissions import NotFound

touches_app = typer.Typer(help="Partner touches: list and review in batches.", no_args_is_help=True)
console = Console()


def _sessions() -> sessionmaker[Session]:
    engine = make_engine(get_settings().effective_database_url)
    migrate(engine)
    return session_factory(engine)


@touches_app.command("list")
def list_command(
    status: str = typer.Option("proposed", help="proposed, confirmed or disputed"),
    kind: TouchKind | None = typer.Option(None, help="only touches of this kind"),
) -> None:
    """The stored touches of one status (at most 500), oldest first."""
    with transaction(_sessions()) as session:
        rows = review.touches(session, cli_actor(), status, kind.value if kind else "")
        table = Table(
            "id", "date", "partner", "kind", "opportunity", "evidence", title=f"{len(rows)} {status}"
        )
        for row in rows:
            t = row.touch
            table.add_row(
                str(t.id),
                str(t.touched_on),
                row.partner_name,
                t.kind,
                row.opportunity_name or t.opportunity_crm_id,
                f"{t.evidence_type} {t.evidence_ref}",
            )
        console.print(table)


@touches_app.command("review")
def review_command(
    touch_ids: list[int] = typer.Argument(None, help="the touches' ids (or --kind for every proposed one)"),
    decision: review.Decision = typer.Option(..., help="confirm or dispute"),
    reason: str = typer.Option(..., help="why (kept with each decision, audited)"),
    kind: TouchKind | None = typer.Option(None, help="every proposed touch of this kind (at most 500)"),
    label: str = typer.Option("cli", help="who decides, as the audit trail names it"),
) -> None:
    """Confirm or dispute touches in one batch, all or none."""
    actor = cli_actor(label)
    try:
        with transaction(_sessions()) as session:
            ids = list(touch_ids or [])
            if kind is not None:
                ids += [row.touch.id for row in review.touches(session, actor, "proposed", kind.value)]
            if not ids:
                console.print("Nothing to decide: no touch given, and none proposed of that kind.")
                raise typer.Exit(1)
            decided = review.review_touches(session, actor, ids, decision, reason)
    except (ValueError, NotFound) as error:
        console.print(f"[red]error:[/] {error}")
        raise typer.Exit(2) from None
    console.print(f"[green]{len(decided)} touch(es) {decided[0].status}[/]")
