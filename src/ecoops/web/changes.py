"""The end of a page's form post: run the change, flash what it did or why it was refused, go back."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from ecoops.accounts.service import InvalidInput
from ecoops.web.templating import flash


def change_and_return(
    request: Request,
    work: Callable[[], str],
    back: str,
    refusals: tuple[type[Exception], ...] = (InvalidInput,),
) -> Response:
    """Run `work` (which returns its message); a refusal is flashed as "Nothing was changed: …"."""
    try:
        flash(request, work(), "success")
    except refusals as exc:
        flash(request, f"Nothing was changed: {exc}.", "error")
    return RedirectResponse(back, status_code=303)
