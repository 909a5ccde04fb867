"""GET forms read out of a page's HTML and submitted as a browser would with the values left in place:
every named field is sent, an empty select or date as `name=`, unticked boxes not at all."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlencode, urljoin


@dataclass
class GetForm:
    action: str
    fields: list[tuple[str, str]] = field(default_factory=list)

    def url(self, **changes: str) -> str:
        """The URL the browser opens on submit, with some fields' values changed."""
        values = [(name, changes.get(name, value)) for name, value in self.fields]
        return f"{self.action}?{urlencode(values)}"


@dataclass
class _Option:
    value: str | None  # None: the option sends its text
    selected: bool
    text: str = ""

    @property
    def sent(self) -> str:
        return self.text.strip() if self.value is None else self.value


class _Forms(HTMLParser):
    def __init__(self, page_url: str) -> None:
        super().__init__()
        self.page_url = page_url
        self.forms: list[GetForm] = []
        self.form: GetForm | None = None
        self.select: str | None = None
        self.options: list[_Option] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            action = urljoin(self.page_url, a.get("action") or self.page_url).split("?")[0]
            self.form = GetForm(action) if a.get("method", "get").lower() == "get" else None
        elif tag == "option" and self.select is not None:
            self.options.append(_Option(a.get("value"), "selected" in a))
        elif self.form is None or "name" not in a or "disabled" in a:
            return
        elif tag == "select":
            self.select, self.options = a["name"], []
        elif tag == "input" and a.get("type", "text") in ("checkbox", "radio"):
            if "checked" in a:
                self.form.fields.append((a["name"], a.get("value") or "on"))
        elif tag == "input" and a.get("type", "text") not in ("submit", "button", "reset", "image"):
            self.form.fields.append((a["name"], a.get("value", "")))

    def handle_data(self, data: str) -> None:
        if self.select is not None and self.options:
            self.options[-1].text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "select" and self.select is not None and self.form is not None:
            chosen = [o for o in self.options if o.selected] or self.options[:1]
            self.form.fields.append((self.select, chosen[0].sent if chosen else ""))
            self.select = None
        elif tag == "form" and self.form is not None:
            self.forms.append(self.form)
            self.form = None


def get_forms(page_url: str, html: str) -> list[GetForm]:
    """The page's GET forms, in order."""
    parser = _Forms(page_url)
    parser.feed(html)
    return parser.forms
