"""Registrable domains: hand-worked cases, agreement with tldextract itself, and no network, ever."""

import socket

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecoops.engines.matching import domains, registrable_domain, registrable_domains
from ecoops.engines.matching.domains import offline_suffix_extractor, unusable_domains


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://www.Example.co.uk:8080/path?q", "example.co.uk"),
        ("mail@sub.acme.com", "acme.com"),
        ("HTTP://WWW.ACME.COM.", "acme.com"),
        ("acme.com/about#team", "acme.com"),
        ("user:secret@shop.acme.co.uk:443", "acme.co.uk"),
        ("mailto:sales@acme.io", "acme.io"),
        ("  www.acme.de  ", "acme.de"),
        ("acme.com; acme.de", "acme.com"),  # a list in one cell: the first one
        ("https://medium.com/@acme", "medium.com"),  # the @ is in the path, not a mailbox
        ("acme.github.io", "acme.github.io"),  # private suffixes count: each user is a company
        ("foo.bar.ck", "foo.bar.ck"),  # wildcard rule *.ck
        ("www.ck", "www.ck"),  # its exception !www.ck
        ("münchen.de", "münchen.de"),
        ("xn--mnchen-3ya.de", "münchen.de"),  # punycode is decoded: one form per IDN
        ("https://BÜCHER.рф/x", "bücher.рф"),
    ],
)
def test_registrable_domain(value, expected):
    assert registrable_domain(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "   ",
        "n/a",
        "-",
        "none",
        "acme",  # empty and placeholder cells
        "gmail.com",
        "bob@GMAIL.com",
        "https://mail.yahoo.co.uk/",
        "user@gmx.de",  # free mail
        "example.com",
        "info@example.org",
        "test.com",  # placeholder domains
        "localhost",
        "intranet.local",
        "server.internal",  # no public suffix
        "192.168.0.1",
        "http://10.0.0.1:8080/",
        "http://[::1]/",
        "2001:db8::1",  # IP addresses
        "co.uk",
        "com",  # a suffix alone has no registrable domain
        "acme..com",
        "ac me.com",
        "-",
    ],
)
def test_values_that_are_never_a_match_key(value):
    assert registrable_domain(value) is None


def test_column_form_keeps_positions_and_nulls():
    values = pa.chunked_array([["www.acme.com", None], ["", "bob@acme.com", "gmail.com"]])
    assert registrable_domains(values).to_pylist() == ["acme.com", None, None, "acme.com", None]
    assert registrable_domains(pa.array([], pa.string())).to_pylist() == []


def test_huge_values_do_not_break_the_column():
    huge_host = "a" * 100_000 + ".com"
    values = pa.array([huge_host, "x" * 1_000_000, "https://acme.com/" + "p" * 500_000])
    assert registrable_domains(values).to_pylist() == [huge_host, None, "acme.com"]


def _expected_by_tldextract(host: str) -> str | None:
    # The reference: tldextract's own trie walk, on the same bundled snapshot.
    domain = offline_suffix_extractor()(host).top_domain_under_public_suffix or None
    return None if domain in set(unusable_domains().to_pylist()) else domain


RULES = sorted(offline_suffix_extractor().tlds)
LABELS = st.sampled_from(["www", "a", "city", "b1", "x-y", "ignored", "sub", "oci", "dev", "shop"])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.lists(LABELS, max_size=3), st.sampled_from(RULES)), min_size=1, max_size=40))
def test_agrees_with_tldextract_on_hosts_under_every_kind_of_rule(cases):
    hosts = [".".join([*prefix, rule.lstrip("*.!")]) for prefix, rule in cases]
    assert registrable_domains(pa.array(hosts)).to_pylist() == [_expected_by_tldextract(h) for h in hosts]


def test_the_suffix_list_is_the_bundled_snapshot_and_nothing_is_fetched(monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("a socket was opened")

    monkeypatch.setattr(socket, "socket", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    # Load the rules afresh with the network gone: they can only come from the installed package.
    offline_suffix_extractor.cache_clear()
    domains._suffix_rules.cache_clear()
    extractor = offline_suffix_extractor()
    assert extractor.suffix_list_urls == ()
    assert extractor.fallback_to_snapshot
    assert registrable_domain("https://shop.acme.com.au/") == "acme.com.au"
    assert extractor("www.acme.co.uk").top_domain_under_public_suffix == "acme.co.uk"
