"""Company legal forms across languages, written as name normalisation leaves them (see `names`)."""

from __future__ import annotations

# Kept here rather than taken from `cleanco`: its list mixes in ordinary words ("private", "pt" as a
# suffix), misses the Japanese, Korean and Chinese forms, and only its data would be of use, since its per-
# name Python cleaning is too slow for a million names.

# Stripped when they end a name, repeatedly ("co ltd", "gmbh and co kg"). Dots and apostrophes are
# already gone and other punctuation is a space, so "S.A." is "sa" and "A/S" is "a s".
# fmt: off
TRAILING_LEGAL_FORMS: tuple[str, ...] = (
    # English-speaking countries
    "inc", "incorporated", "corp", "corporation", "co", "company", "and co", "and company", "cos",
    "llc", "l l c", "llp", "lllp", "lp", "ltd", "limited", "plc", "pllc", "pc", "pty", "pty ltd",
    "proprietary limited", "pte", "pte ltd", "pvt", "pvt ltd", "private limited", "unlimited", "ulc",
    "nl", "lc",
    # German-speaking countries
    "gmbh", "ggmbh", "mbh", "ag", "kg", "kgaa", "ohg", "gbr", "ug", "ug haftungsbeschrankt", "ev", "eg",
    "se", "gesmbh", "gmbh and co kg", "ag and co kg", "og",
    # French, Belgian, Swiss, Luxembourgish
    "sa", "sas", "sasu", "sarl", "eurl", "sca", "scs", "snc", "sci", "scop", "sprl", "srl", "sc",
    # Dutch and Flemish
    "bv", "nv", "vof", "cv", "bvba", "cvba",
    # Italian, Spanish, Portuguese, Latin American
    "spa", "sapa", "sl", "slu", "sll", "sau", "ltda", "lda", "sa de cv", "s de rl", "s de rl de cv",
    "sab de cv", "de cv", "sacv", "saic", "eireli", "me", "epp", "sas de cv",
    # Nordic
    "ab", "ab publ", "publ", "as", "asa", "a s", "aps", "a p s", "amba", "oy", "oyj", "hf", "ehf", "ky",
    # Central and Eastern Europe, Baltics, Balkans
    "sp z oo", "spolka z oo", "sp j", "sp k", "sro", "spol sro", "spol s ro", "kft", "zrt", "nyrt", "bt",
    "doo", "dd", "ad", "ood", "eood", "ead", "uab", "ou", "sia", "jsc", "ojsc", "cjsc", "pjsc", "ooo",
    "zao", "oao", "pao", "tov", "pp",
    # Greek, Turkish, Middle East, Africa
    "ae", "epe", "ike", "sti", "ltd sti", "wll", "fze", "fzco", "fzc", "fz llc", "sae", "saog", "saoc",
    "psc", "bsc",
    # Asia-Pacific (romanised)
    "kk", "kabushiki kaisha", "kabushikigaisha", "gk", "godo kaisha", "yk", "yugen kaisha", "bhd",
    "sdn bhd", "tbk", "pt tbk", "co ltd", "coltd",
    # The same forms written out in full, as some CRMs hold them
    "aktiengesellschaft", "kommanditgesellschaft", "gesellschaft mit beschrankter haftung",
    "societe anonyme", "societe par actions simplifiee", "societe a responsabilite limitee",
    "sociedad anonima", "sociedad limitada", "sociedade anonima", "limitada", "societa per azioni",
    "societa a responsabilita limitata", "besloten vennootschap", "naamloze vennootschap", "aktiebolag",
    "aktieselskab", "anpartsselskab", "aksjeselskap", "osakeyhtio", "julkinen osakeyhtio",
)

# Stripped when they start a name: Indonesian "PT", Russian and Ukrainian forms written first.
LEADING_LEGAL_FORMS: tuple[str, ...] = (
    "pt", "ooo", "oao", "zao", "pao", "tov", "\u043e\u043e\u043e", "\u043e\u0430\u043e", "\u0437\u0430\u043e",
    "\u043f\u0430\u043e", "\u0442\u043e\u0432",  # the same five in Cyrillic, and Ukrainian TOV
)

# Written without spaces in Chinese, Japanese and Korean, so stripped wherever they stand.
CJK_LEGAL_FORMS: tuple[str, ...] = (
    "株式会社", "有限会社", "合同会社", "合名会社", "合資会社", "(株)", "\uff08株\uff09", "㈱", "(有)",
    "\uff08有\uff09", "股份有限公司", "有限责任公司", "有限責任公司", "有限公司", "주식회사", "(주)",
    "\uff08주\uff09", "유한회사",
)
# fmt: on

# Corporate-structure words: a group, a holding. They say how a company is organised, not which one it is
# ("DuPont" / "DuPont Group", "SEB Group" / "SEB"), so they are stripped from the end of a name with the
# legal forms and kept aside as weak evidence (`names.name_keys`: `structure`). Each maps to its class,
# so "Groupe" and "Gruppe" are one word.
# fmt: off
STRUCTURE_WORDS: dict[str, str] = {
    "group": "group", "groupe": "group", "gruppe": "group", "grupo": "group", "gruppo": "group",
    "groep": "group", "grupa": "group", "grupp": "group", "gruppen": "group", "konzern": "group",
    "koncern": "group", "koncernen": "group",
    "holding": "holding", "holdings": "holding", "holdinggesellschaft": "holding",
}
# fmt: on

# The countries whose law has each legal form, for the forms that belong to few (a form shared by most of
# the world, "ltd", "co", "se", says nothing). A record with no country but such a form is not a company of
# another country: "Coinbase, S.A." with no country is no US "Coinbase" (`form_countries`).
_LATIN_SA = "FR CH BE LU MC ES PT PL GR AR BR CL CO PE MX UY PY EC VE BO GT CR PA DO HN SV NI MA TN SN CI"
# fmt: off
FORM_COUNTRIES: dict[str, frozenset[str]] = {form: frozenset(countries.split()) for form, countries in {
    "inc": "US CA PH", "incorporated": "US CA PH", "llc": "US", "corp": "US CA JP KR TW PH",
    "corporation": "US CA JP KR TW PH", "plc": "GB IE", "pty": "AU ZA",
    "gmbh": "DE AT CH LI", "ag": "DE AT CH LI", "kgaa": "DE AT", "aktiengesellschaft": "DE AT CH LI",
    "sa": _LATIN_SA, "sas": "FR CO", "sarl": "FR LU MA TN", "sl": "ES", "spa": "IT", "ltda": "BR CO PT",
    "nv": "NL BE CW SR", "bv": "NL BE", "bvba": "BE",
    "ab": "SE FI", "publ": "SE", "asa": "NO", "aps": "DK", "oy": "FI", "oyj": "FI",
    "kk": "JP", "kabushiki": "JP", "bhd": "MY", "tbk": "ID",
}.items()}
# fmt: on


def form_countries(tail: str | None) -> str | None:
    """The countries (ISO alpha-2, space-separated, sorted) whose law has every legal form among the words of
    `tail` (what name normalisation stripped from the end of a name), or None when none of its words is a
    form of few countries, or its forms have no country in common ("Inc. GmbH")."""
    found = [FORM_COUNTRIES[word] for word in (tail or "").split() if word in FORM_COUNTRIES]
    if not found:
        return None
    common = frozenset.intersection(*found)
    return " ".join(sorted(common)) if common else None
