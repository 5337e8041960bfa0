"""Property-based fuzzing (hypothesis) of what reads outside input: the knowledge-base import readers and the
WeChat push parsers. Whatever the bytes, they answer with a report or a clean refusal, never a crash."""
from __future__ import annotations

import json

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.wechat_protocol import PushRejected, clip, numbered, parse_fields, picked, to_message
from knowledge_base.transfer import ImportReport, neutralised, parse, restored

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=60)
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), TEXT)
JSONISH = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
                       max_leaves=12)
GUIDE_KEYS = st.sampled_from(["code", "title", "department", "summary", "materials", "fee", "location", "faqs",
                              "keywords", "time_limit", "aliases", "guides", "term", "canonical", "kind"])
GUIDE_LIKE = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                          | st.dictionaries(GUIDE_KEYS | TEXT, inner, max_size=6), max_leaves=20)


def _is_report(report: object) -> bool:
    return isinstance(report, ImportReport) and (report.errors or report.guides is not None)


@FUZZ
@given(raw=st.binary(max_size=2000), ext=st.sampled_from(["json", "yaml", "yml", "csv", "xlsx", "txt"]))
def test_import_readers_never_crash_on_arbitrary_bytes(raw, ext):
    assert _is_report(parse(raw, f"upload.{ext}"))


@FUZZ
@given(doc=GUIDE_LIKE, fmt=st.sampled_from(["json", "yaml"]))
def test_import_readers_report_every_malformed_structure(doc, fmt):
    text = json.dumps(doc, ensure_ascii=False) if fmt == "json" else yaml.safe_dump(doc, allow_unicode=True)
    assert _is_report(parse(text.encode(), f"guides.{fmt}"))


@FUZZ
@given(rows=st.lists(st.lists(TEXT, min_size=1, max_size=6), min_size=1, max_size=6),
       header=st.lists(GUIDE_KEYS | st.sampled_from(["question", "answer", "category"]), min_size=1, max_size=6),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]))
def test_csv_sheets_with_any_cells_are_read_or_refused(rows, header, encoding):
    import csv
    import io

    out = io.StringIO()
    csv.writer(out).writerows([header, *rows])
    try:
        raw = out.getvalue().encode(encoding)
    except UnicodeEncodeError:
        raw = out.getvalue().encode("utf-8")
    assert _is_report(parse(raw, "faq.csv"))


@FUZZ
@given(cell=TEXT)
def test_spreadsheet_formula_neutralising_round_trips(cell):
    assert restored(neutralised(cell)) == cell
    assert not str(neutralised(cell)).startswith(("=", "+", "-", "@", "\t", "\r"))


@FUZZ
@given(body=st.binary(max_size=1500))
def test_push_bodies_parse_or_are_refused_cleanly(body):
    try:
        fields = parse_fields(body)
    except PushRejected as exc:
        assert exc.status_code in (400, 413)
        return
    assert isinstance(fields, dict)
    to_message(fields)


@FUZZ
@given(fields=st.dictionaries(st.sampled_from(["MsgType", "Event", "Content", "FromUserName", "ToUserName",
                                               "CreateTime", "MsgId", "EventKey", "MediaId", "Recognition"]) | TEXT,
                              TEXT | st.sampled_from(["text", "event", "voice", "subscribe", "CLICK", "1", "-1"]),
                              max_size=8))
def test_any_field_values_make_a_message(fields):
    message = to_message(fields)
    assert message is not None


@FUZZ
@given(xml_text=st.dictionaries(st.from_regex(r"\A[A-Za-z][A-Za-z0-9]{0,12}\Z"), TEXT, max_size=6))
def test_well_formed_xml_pushes_round_trip_their_fields(xml_text):
    from xml.sax.saxutils import escape

    def xml_safe(value: str) -> str:  # XML 1.0 cannot carry most control characters at all
        return "".join(c for c in value if c in "\t\n" or ord(c) >= 0x20 and c not in "\ufffe\uffff")

    body = "<xml>" + "".join(f"<{k}>{escape(xml_safe(v))}</{k}>" for k, v in xml_text.items()) + "</xml>"
    fields = parse_fields(body.encode())
    assert set(fields) == set(xml_text)


@FUZZ
@given(text=TEXT, limit=st.integers(min_value=4, max_value=200))
def test_clip_stays_within_the_byte_limit(text, limit):
    clipped = clip(text, limit)
    assert len(clipped.encode()) <= limit
    assert clipped == text or clipped.endswith("…")


@FUZZ
@given(texts=st.lists(TEXT, max_size=4), titles=st.lists(TEXT, max_size=5), reply=TEXT)
def test_numbered_choices_and_picks(texts, titles, reply):
    messages = [{"text": t} for t in texts] + [{"text": "", "buttons": [{"title": t, "payload": f"/p{i}"}
                                                                       for i, t in enumerate(titles)]}]
    text, options = numbered(messages)
    assert len(options) == len(titles)
    chosen = picked(reply, options)
    assert chosen is None or chosen in {o["payload"] for o in options}
