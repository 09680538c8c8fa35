"""Data files: the bank account, phones and offices are checked before any page shows them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from sitegen.config import load_config
from sitegen.data import SWIFT, load_data
from sitegen.errors import Collector

from .conftest import MakeSite

BANK = "data/bank.yaml"


def load(make_site: MakeSite, files: dict[str, str | bytes | None]) -> tuple[Collector, dict[str, object]]:
    root = make_site(files)
    problems = Collector()
    data = load_data(load_config(root), problems)
    return problems, data.values


def bank_yaml(number: str = '"123-4-56789-0"', swift: str = "EXAMTHBK", country: str | None = "TH") -> str:
    return (
        "account_name: Example Organisation\n"
        "bank: {th: ธนาคารตัวอย่าง, en: Example Bank, my: Example Bank}\n"
        "branch: {th: สาขาหลัก, en: Main Branch, my: Main Branch}\n"
        f"account_number: {number}\n"
        'account_format: "###-#-#####-#"\n'
        f"swift: {swift}\n"
    ) + (f"country: {country}\n" if country is not None else "")


@pytest.mark.parametrize("code", ["KRTHTHBK", "DEUTDEFF500", "BKKBTHBK"])
def test_swift_codes_of_8_or_11_characters_pass(code: str) -> None:
    assert SWIFT.match(code)


@pytest.mark.parametrize("code", ["KRTHTHB", "KRTH-THBK", "krththbk", "KRTHTHBK12", "1RTHTHBK"])
def test_malformed_swift_codes_fail(code: str) -> None:
    assert not SWIFT.match(code)


def test_bad_swift_is_an_error_at_its_line(make_site: MakeSite) -> None:
    problems, _ = load(make_site, {BANK: bank_yaml(swift="KRTHTHB")})
    assert [p.format() for p in problems.problems] == [
        "data/bank.yaml:6: error: 'KRTHTHB' is not a SWIFT/BIC code (it has 8 or 11 capital letters and digits, like KRTHTHBK)"
    ]


def test_swift_of_a_bank_in_another_country_than_the_record_says_is_an_error(make_site: MakeSite) -> None:
    problems, _ = load(make_site, {BANK: bank_yaml(swift="DEUTDEFF")})
    assert [p.format() for p in problems.problems] == [
        "data/bank.yaml:6: error: SWIFT code 'DEUTDEFF' is of a bank in DE, but 'country' is TH"
        " (letters 5 and 6 of a SWIFT code are its bank's country: check the code, or the country)"
    ]


def test_a_swift_code_is_not_tied_to_the_phone_region(make_site: MakeSite) -> None:
    """A Thai site may take donations into a bank abroad: with no country beside it, a SWIFT code is
    checked for its form only (the basic site declares its bank's country optional)."""
    problems, values = load(make_site, {BANK: bank_yaml(swift="DEUTDEFF", country=None)})
    assert problems.problems == [] and values["bank"]["swift"] == "DEUTDEFF"  # type: ignore[index]


@pytest.mark.parametrize("country", ["th", "THA", "'T1'", "๑๒", "ZZ", "'XX'"])
def test_a_country_is_two_capital_letters(make_site: MakeSite, country: str) -> None:
    problems, _ = load(make_site, {BANK: bank_yaml(country=country)})
    assert [(p.line, p.hint) for p in problems.problems] == [(7, "write its two-letter ISO 3166 code, like TH")]


@pytest.mark.parametrize(("written", "read"), [("NO", "false"), ("yes", "true"), ("0", "0")])
def test_a_value_yaml_reads_as_no_text_is_an_error_not_a_blank(make_site: MakeSite, written: str, read: str) -> None:
    """Norway's code, unquoted, is YAML's false: the check took it for a blank, and the SWIFT code beside
    it was checked against no country at all."""
    problems, _ = load(make_site, {BANK: bank_yaml(swift="KRTHTHBK", country=written)})
    assert [(p.line, p.message) for p in problems.errors] == [(7, f"'{read}' is not a country code")]
    assert "quotes" in problems.errors[0].hint


@pytest.mark.parametrize("number", ['"123-4-5678-0"', '"123-4-567890-0"', '"1234567890"', "1234567890"])
def test_account_number_must_fit_its_format(make_site: MakeSite, number: str) -> None:
    problems, _ = load(make_site, {BANK: bank_yaml(number=number)})
    assert len(problems.errors) == 1
    assert problems.errors[0].line == 4


def test_phones_become_e164_tel_links(make_site: MakeSite) -> None:
    problems, values = load(make_site, {})
    assert problems.errors == []
    offices = values["offices"]
    assert isinstance(offices, list)
    phones = offices[0]["phones"]
    # E.164 worked out by hand: drop the trunk 0, prefix Thailand's +66.
    assert [p.href for p in phones] == ["tel:+6621234567", "tel:+66812345678"]
    assert [p.shown(local=True) for p in phones] == ["02-123-4567", "081-234-5678"]
    assert [p.shown(local=False) for p in phones] == ["+66 2 123 4567", "+66 81 234 5678"]


def test_a_phone_with_a_digit_missing_is_an_error(make_site: MakeSite) -> None:
    offices = '- key: main\n  name: {th: ก, en: A, my: A}\n  head: true\n  phones: ["02-123-456"]\n'
    problems, _ = load(make_site, {"data/offices.yaml": offices})
    assert [p.format() for p in problems.problems] == [
        "data/offices.yaml:4: error: '02-123-456' is not a valid phone number "
        "(check the digits; write a TH number like 034-434726, or +66 34 434 726)"
    ]


def test_short_codes_have_no_international_form(make_site: MakeSite) -> None:
    hotlines = '- number: "1300"\n  name: {th: ศูนย์ประชาบดี, en: Prachabodi Center, my: x}\n'
    problems, values = load(make_site, {"data/hotlines.yaml": hotlines})
    assert problems.errors == []
    line = values["hotlines"][0]  # type: ignore[index]
    assert line["number"].href == "tel:1300"
    assert line["number"].shown(local=False) == "1300"


def test_empty_fields_are_noted_not_errors(make_site: MakeSite) -> None:
    root = make_site({})
    problems = Collector()
    data = load_data(load_config(root), problems)
    assert problems.problems == []
    assert sorted((p.path, p.line, p.message) for p in data.empty) == [
        ("data/offices.yaml", 4, "'main.address.my' is empty"),
        ("data/organisation.yaml", 5, "'email' is empty"),
    ]


def test_unknown_key_in_bank_data_suggests_the_right_one(make_site: MakeSite) -> None:
    problems, _ = load(make_site, {BANK: bank_yaml() + "acount_name: x\n"})
    assert [p.format() for p in problems.errors] == [
        "data/bank.yaml:8: error: unknown key 'acount_name' (did you mean 'account_name'?)"
    ]


@pytest.mark.parametrize(
    "number",
    [
        '"๑๖๒-๐-๐๙๔๓๒-๐"',  # Thai digits
        '"１６２-０-０９４３２-０"',  # full-width digits
        '"162-0-09432-0\\n"',  # a trailing newline
        '"162-0-09432-0 "',
    ],
)
def test_account_number_digits_are_ascii_digits(make_site: MakeSite, number: str) -> None:
    problems, _ = load(make_site, {BANK: bank_yaml(number=number)})
    assert [(p.line, p.message.split("'")[0]) for p in problems.errors] == [(4, "account number ")]


@pytest.mark.parametrize("number", ['"๑๖๒๐๐๙๔๓๒๐"', '"1620094320\\n"', '"１６２００９４３２０"'])
def test_account_number_without_a_format_needs_ascii_digits_too(make_site: MakeSite, number: str) -> None:
    text = bank_yaml(number=number).replace('account_format: "###-#-#####-#"\n', "")
    problems, _ = load(make_site, {BANK: text})
    assert [p.line for p in problems.errors] == [4]
    assert problems.errors[0].message.endswith("is not an account number")


def test_swift_with_a_trailing_newline_is_an_error(make_site: MakeSite) -> None:
    problems, _ = load(make_site, {BANK: bank_yaml(swift='"KRTHTHBK\\n"')})
    assert [p.line for p in problems.errors] == [6]


def offices_with(phone: str) -> str:
    return f"- key: main\n  name: {{th: ก, en: A, my: A}}\n  head: true\n  phones: [{phone}]\n"


@pytest.mark.parametrize(
    "phone",
    [
        '"034-434-ABC"',  # phonenumbers reads letters as keypad digits: a tel: link to another number
        '"034-434-7TH"',
        '"๐๓๔-๔๓๔๗๒๖"',  # Thai digits
        '"０３４-４３４７２６"',  # full-width digits
        '"034/434726"',
        '"(034) 434726"',
        '"034-434726 ext. 5"',
        '"66+34434726"',
        '"๑๓๐๐"',  # a short code in Thai digits
    ],
)
def test_a_phone_is_ascii_digits_spaces_dashes_and_a_leading_plus(make_site: MakeSite, phone: str) -> None:
    problems, _ = load(make_site, {"data/offices.yaml": offices_with(phone)})
    assert [p.format() for p in problems.problems] == [
        f"data/offices.yaml:4: error: '{phone.strip(chr(34))}' is not a valid phone number "
        "(use only the digits 0-9, spaces, dashes and a leading +, like 034-434726 or +66 34 434 726)"
    ]


@pytest.mark.parametrize(
    ("phone", "href"),
    [('"+66 34 434 726"', "tel:+6634434726"), ('"034 434 726"', "tel:+6634434726"), ('"1300"', "tel:1300")],
)
def test_good_phones_pass(make_site: MakeSite, phone: str, href: str) -> None:
    problems, values = load(make_site, {"data/offices.yaml": offices_with(phone)})
    assert problems.errors == []
    assert [p.href for p in values["offices"][0]["phones"]] == [href]  # type: ignore[index]


def test_thai_digits_in_an_account_number_get_a_hint_saying_so(make_site: MakeSite) -> None:
    problems, _ = load(make_site, {BANK: bank_yaml(number='"๑๖๒-๐-๐๙๔๓๒-๐"')})
    assert [p.hint for p in problems.errors] == ["write the digits as 0-9, not as Thai (๐-๙) or full-width digits"]


ORGANISATION = (
    'name: {th: องค์กรตัวอย่าง, en: Example Organisation, my: နမူနာအဖွဲ့}\nshort_name: EX\nfounded: "2004"\n'
    "registered: 2008-12-24\nemail: EMAIL\nwebsite: WEBSITE\n"
)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("email", '"info\\u200b@example.org"'),  # a zero-width space
        ("email", '"info@lpn\\u202emoc.example.org"'),  # a right-to-left override
        ("email", '"info@ｅxample.org"'),  # a full-width letter
        ("email", '"info@example.org\\n"'),
        ("website", '"https://www.example.org@evil.example"'),  # a user name, then another host
        ("website", '"https://www.example.org\\u200b.evil.example"'),
        ("website", '"https://ｅxample.org"'),
        ("website", '"https://example.org/\\"><script>"'),
        ("website", '"javascript://example.org/%0aalert(1)"'),
        ("website", '"https://example.org:99999/"'),  # no such port: the rule of base_url in site.yaml
        ("website", '"https://lpnfoundation"'),
    ],
)
def test_addresses_are_plain_ascii_with_nothing_hidden(make_site: MakeSite, field: str, value: str) -> None:
    """Each of these was published in a mailto: or an href (found by the input attacker)."""
    values = {"email": '""', "website": '"https://example.org"', field: value}
    problems, _ = load(
        make_site,
        {
            "data/organisation.yaml": ORGANISATION.replace("EMAIL", values["email"]).replace(
                "WEBSITE", values["website"]
            )
        },
    )
    assert [(p.path, p.line, p.level) for p in problems.errors] == [
        ("data/organisation.yaml", 5 + (field == "website"), "error")
    ]
    assert "plain Latin letters" in problems.errors[0].hint


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("email", "info@lpnfoundation.com"),
        ("email", "first.last+news@mail.example.co.th"),
        ("website", "https://www.lpnfoundation.com"),
        ("website", "https://www.facebook.com/lpnfoundation?ref=page#about"),
        ("website", "http://example.org:8080/a/b.html"),
        ("website", "https://xn--72c9ah5dd7a.xn--o3cw4h/"),  # ตัวอย่าง.ไทย, as a base_url may be written
    ],
)
def test_ordinary_addresses_pass(make_site: MakeSite, field: str, value: str) -> None:
    values = {"email": '""', "website": '"https://example.org"', field: f'"{value}"'}
    problems, values_loaded = load(
        make_site,
        {
            "data/organisation.yaml": ORGANISATION.replace("EMAIL", values["email"]).replace(
                "WEBSITE", values["website"]
            )
        },
    )
    assert problems.errors == []
    assert values_loaded["organisation"][field] == value  # type: ignore[index]


def test_a_data_file_linked_to_nothing_is_an_error_not_a_traceback(make_site: MakeSite, tmp_path: Path) -> None:
    """An emacs lock file (.#bank.yaml) is such a link; a plain one raised FileNotFoundError."""
    root = make_site()
    (root / "data" / "extra.yaml").symlink_to("missing.yaml")
    (root / "data" / ".#bank.yaml").symlink_to("user@host.1234")
    problems = Collector()
    load_data(load_config(root), problems)
    assert [(p.path, p.message) for p in problems.errors] == [
        ("data/extra.yaml", "'data/extra.yaml' is a link to a file that does not exist")
    ]


def test_a_hidden_data_file_is_not_read(make_site: MakeSite) -> None:
    problems, values = load(make_site, {"data/.draft.yaml": "account_number: nonsense\n"})
    assert problems.errors == [] and "draft" not in values and ".draft" not in values


def test_a_data_folder_linked_out_of_the_project_is_named(make_site: MakeSite, tmp_path: Path) -> None:
    root = make_site()
    outside = tmp_path / "outside"
    shutil.move(root / "data", outside)
    (root / "data").symlink_to(outside)
    problems = Collector()
    load_data(load_config(root), problems)
    assert [p.format() for p in problems.errors] == [
        f"data: error: 'data' is a link to {outside}, outside the project"
        " (replace the link by a copy of the folder inside the project)"
    ]


def test_a_file_the_site_declares_nothing_about_is_loaded_as_it_is(make_site: MakeSite) -> None:
    problems, values = load(make_site, {"data/extra.yaml": "phone: not a phone\nswift: nonsense\n"})
    assert problems.errors == []
    assert values["extra"] == {"phone": "not a phone", "swift": "nonsense"}


@pytest.mark.parametrize(
    ("kind", "text", "expected"),
    [
        ("text", "[1, 2]\n", "data/extra.yaml:1: error: 'extra' must be text (put it in quotes, like \"...\")"),
        ("date", "tomorrow\n", "data/extra.yaml:1: error: 'extra' must be a date (write it as YYYY-MM-DD)"),
        ("list of phone", "x: 1\n", "data/extra.yaml:1: error: 'extra' must be a list (write extra: [...])"),
        ("any", "x: [1, {y: 2}]\n", None),
    ],
)
def test_a_whole_file_may_be_one_value(make_site: MakeSite, kind: str, text: str, expected: str | None) -> None:
    """A file declared as one value is named by its file name (an empty key list raised IndexError)."""
    site = make_site().joinpath("site.yaml").read_text(encoding="utf-8") + f"  extra: {kind}\n"
    problems, _ = load(
        lambda files: make_site({**files, "site.yaml": site}, name="declared"), {"data/extra.yaml": text}
    )
    assert [p.format() for p in problems.problems] == ([expected] if expected else [])


def test_a_declared_data_file_that_is_missing_is_an_error_where_it_is_declared(make_site: MakeSite) -> None:
    problems, values = load(make_site, {"data/offices.yaml": None})
    assert [p.format() for p in problems.problems] == [
        "site.yaml:51: error: data file 'data/offices.yaml' does not exist"
        " (create it, or remove 'offices' from the 'data:' section of site.yaml)"
    ]
    assert "offices" not in values


@pytest.mark.parametrize(
    ("value", "public"),
    [
        ("https://lpnfoundation.org/th/", True),
        ("https://xn--12c1bj4a2b6b.xn--o3cw4h/", True),  # a Thai domain, as punycode
        ("http://a-b.example.org:8080/x?y=1#z", True),
        ("https://-.-", False),  # labels begin and end with a letter or digit
        ("https://a-.org", False),
        ("https://1.2", False),  # the last label is a name, not a number
        ("https://example.org:99999/", False),
        ("https://localhost/", False),  # not an address a reader of the site can open
        ("https://example.org@evil.example/", False),
    ],
)
def test_a_web_address_in_data_is_one_anyone_can_open(value: str, public: bool) -> None:
    from sitegen.data import is_url

    assert is_url(value) is public


@pytest.mark.parametrize(
    ("value", "public"),
    [("help@lpnfoundation.org", True), ("a@-.-", False), ("x@localhost", False), ("x@1.2", False)],
)
def test_an_email_address_in_data_is_one_anyone_can_write_to(value: str, public: bool) -> None:
    from sitegen.data import EMAIL

    assert (EMAIL.fullmatch(value) is not None) is public
