"""Import and export: JSON, YAML, CSV, XLSX; the full guide format and the simple FAQ sheet
(`code,title,question,similar_questions,answer`); the alias / typo dictionary travels with the guides (an
`aliases` list in JSON/YAML, an `aliases` sheet in XLSX; CSV holds one table, the guides). Imports are
validated whole before anything is written, then written in one transaction. A replacing import also
archives every live guide the file leaves out (and makes the file's dictionary the whole dictionary);
its dry run reports what would be added, changed and archived, and writes nothing.

Spreadsheets are read with bounded work: XLSX in openpyxl's streaming read-only mode with the sheet's
declared dimensions ignored (a 1.5 KB file may declare A1:XFD1048576), at most MAX_TABLE_ROWS rows and
MAX_TABLE_COLUMNS columns, and at most MAX_XLSX_UNPACKED_BYTES of unpacked XML. Cells starting with a
formula character are exported with a leading apostrophe (CSV and XLSX), and read back without it."""
from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence

import yaml
from pydantic import ValidationError

from knowledge_base.schema import AliasDoc, GuideData, dictionary_problems
from knowledge_base.workflow import KnowledgeBase, WorkflowError, validation_errors

FAQ_COLUMNS = ["code", "title", "question", "similar_questions", "answer"]
ALIAS_COLUMNS = list(AliasDoc.model_fields)  # term, canonical, kind
ALIAS_SHEET = "aliases"
GUIDE_FIELDS = list(GuideData.model_fields)
META_FIELDS = ["status", "version", "updated_by", "updated_at"]
FORMATS = ("json", "yaml", "csv", "xlsx")
MAX_TABLE_ROWS = 50_000
MAX_TABLE_COLUMNS = 64
MAX_XLSX_UNPACKED_BYTES = 200 * 1024 * 1024
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # what makes Excel/WPS/LibreOffice read a cell as a formula


@dataclass
class RowError:
    line: int  # 1-based line (CSV/XLSX row incl. header, or document index for JSON/YAML)
    field: str
    reason: str

    def __str__(self) -> str:
        return f"第{self.line}行 {self.field}: {self.reason}"


@dataclass
class ImportSummary:
    """What an import changes: codes of guides added (nothing live yet), changed, unchanged (already live
    as the file says), archived (replace only), and dictionary terms added, changed and removed."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    archived: list[str] = field(default_factory=list)
    aliases_added: list[str] = field(default_factory=list)
    aliases_changed: list[str] = field(default_factory=list)
    aliases_removed: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        def few(codes: list[str]) -> str:
            return (": " + ", ".join(codes[:20]) + (f" … (+{len(codes) - 20})" if len(codes) > 20 else "")) if codes else ""

        return [f"新增 added      {len(self.added):>5}{few(self.added)}",
                f"修改 changed    {len(self.changed):>5}{few(self.changed)}",
                f"不变 unchanged  {len(self.unchanged):>5}",
                f"归档 archived   {len(self.archived):>5}{few(self.archived)}",
                f"词典 aliases    +{len(self.aliases_added)} ~{len(self.aliases_changed)} -{len(self.aliases_removed)}"
                f"{few(self.aliases_added + self.aliases_changed + self.aliases_removed)}"]


@dataclass
class ImportReport:
    guides: list[GuideData] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    encoding: str = "utf-8"
    kind: str = ""  # guides | faq_sheet
    lines: dict[str, int] = field(default_factory=dict)  # code → the line it was read from
    aliases: list[AliasDoc] | None = None  # None: the file has no dictionary section
    summary: ImportSummary = field(default_factory=ImportSummary)
    written: bool = False  # False for a dry run and for a refused import

    @property
    def ok(self) -> bool:
        return not self.errors


# ---- decoding ------------------------------------------------------------------------------------
def decode_text(raw: bytes) -> tuple[str, str]:
    """UTF-8 (with or without BOM) first, then GB18030 (superset of GBK, what Excel saves in China)."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding), "utf-8" if encoding == "utf-8-sig" else "gbk/gb18030"
        except UnicodeDecodeError:
            continue
    raise ValueError("文件编码无法识别，请用 Excel/WPS 另存为“CSV UTF-8”后重试 / unknown text encoding, save as UTF-8")


def neutralised(value: Any) -> Any:
    """A spreadsheet cell that cannot run as a formula: text starting with = + - @ tab CR gets a leading '
    (as does text that would only start so after its leading apostrophes, so `restored` is exact)."""
    if isinstance(value, str) and value.lstrip("'").startswith(FORMULA_STARTS):
        return "'" + value
    return value


def restored(cell: str) -> str:
    """The inverse of `neutralised`, for cells read from CSV/XLSX."""
    if cell.startswith("'") and cell[1:].lstrip("'").startswith(FORMULA_STARTS):
        return cell[1:]
    return cell


def _bounded(rows: Iterator[Sequence[Any]]) -> list[list[str]]:
    table = []
    for row in rows:
        if len(table) > MAX_TABLE_ROWS:  # the header plus MAX_TABLE_ROWS rows are allowed
            raise ValueError(f"表格超过 {MAX_TABLE_ROWS} 行，请拆分后分批导入 / more than {MAX_TABLE_ROWS} rows")
        table.append([restored("" if c is None else str(c)) for c in row[:MAX_TABLE_COLUMNS]])
    return table


def _xlsx_sheets(raw: bytes) -> tuple[list[list[str]], list[list[str]] | None]:
    """The first sheet's rows, and the `aliases` sheet's rows when the workbook has one."""
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as z:
            unpacked = sum(i.file_size for i in z.infolist())
        if unpacked > MAX_XLSX_UNPACKED_BYTES:
            raise ValueError(f"Excel 文件解压后超过 {MAX_XLSX_UNPACKED_BYTES // 1_048_576} MB，请拆分后导入 / "
                             f"the workbook unpacks to more than {MAX_XLSX_UNPACKED_BYTES // 1_048_576} MB")
        wb = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
        sheets = [wb.worksheets[0]] + [ws for ws in wb.worksheets[1:] if ws.title.strip().lower() == ALIAS_SHEET]
        tables = []
        for ws in sheets:
            ws.reset_dimensions()  # the declared range may be huge; read the rows that are actually there
            tables.append(_bounded(ws.iter_rows(max_col=MAX_TABLE_COLUMNS, values_only=True)))
    except ValueError:
        raise
    except Exception as exc:  # openpyxl and zipfile raise many kinds for a non-xlsx file
        raise ValueError(f"无法读取 Excel 文件（{type(exc).__name__}），请确认是 .xlsx 格式") from exc
    for rows in tables:
        while rows and rows[0] and not rows[0][-1]:  # padding columns right of the header
            rows[0].pop()
    return tables[0], tables[1] if len(tables) > 1 else None


def _keyed(table: list[list[str]]) -> tuple[list[str], list[dict[str, Any]]]:
    header = [h.strip().lower() for h in (table[0] if table else [])]
    return header, [dict(zip(header, r)) for r in table[1:]]


def _rows_from_table(raw: bytes, fmt: str) -> tuple[list[str], list[dict[str, Any]], str, list[list[str]] | None]:
    """Header and rows of the guides/FAQ table, the encoding, and the XLSX `aliases` sheet (if any)."""
    aliases = None
    if fmt == "xlsx":
        (table, aliases), encoding = _xlsx_sheets(raw), "xlsx"
    else:
        text, encoding = decode_text(raw)
        table = _bounded(csv.reader(io.StringIO(text)))
    header, rows = _keyed(table)
    return header, rows, encoding, aliases


# ---- parsing -------------------------------------------------------------------------------------
def _generated_code(title: str) -> str:
    return "IMP-" + hashlib.sha1(title.encode()).hexdigest()[:6].upper()


def _faq_sheet(rows: list[dict[str, Any]], report: ImportReport, existing: dict[str, GuideData]) -> None:
    by_code: dict[str, dict[str, Any]] = {}
    for i, row in enumerate(rows, start=2):
        if not any(str(v).strip() for v in row.values()):
            continue  # blank line
        title = str(row.get("title", "")).strip()
        code = str(row.get("code", "")).strip().upper() or (_generated_code(title) if title else "")
        answer, question = str(row.get("answer", "")).strip(), str(row.get("question", "")).strip()
        problems = [("title", "标题不能为空")] if not title and code not in existing else []
        problems += [("question", "问题不能为空")] if not question else []
        problems += [("answer", "答案不能为空")] if not answer else []
        entry = by_code.get(code)
        if entry and title and entry["title"] and entry["title"] != title:
            problems.append(("code", f"事项编码 {code} 重复，且标题不同（“{entry['title']}”与“{title}”）"))
        for f, reason in problems:
            report.errors.append(RowError(i, f, reason))
        if problems:
            continue
        entry = by_code.setdefault(code, {"title": title, "faqs": [], "line": i})
        entry["title"] = entry["title"] or title
        entry["faqs"].append({"question": question, "similar_questions": row.get("similar_questions", ""),
                              "answer": answer})
    for code, entry in by_code.items():
        base = existing.get(code)
        doc = base.model_dump() if base else {"code": code, "title": entry["title"]}
        doc.update(faqs=entry["faqs"], title=entry["title"] or doc["title"])
        _validate(doc, entry["line"], report)


def _validate(doc: dict[str, Any], line: int, report: ImportReport) -> None:
    try:
        report.guides.append(GuideData.model_validate(doc))
        report.lines[report.guides[-1].code] = line
    except ValidationError as exc:
        report.errors.extend(RowError(line, e["field"], e["reason"]) for e in validation_errors(exc))


def _guide_docs(docs: list[Any], report: ImportReport, line_of=lambda i: i + 1) -> None:
    seen: dict[str, int] = {}
    for i, doc in enumerate(docs):
        if not isinstance(doc, dict):
            report.errors.append(RowError(line_of(i), "(document)", "应为一个事项对象 / expected an object"))
            continue
        doc = {k: v for k, v in doc.items() if k not in META_FIELDS}
        code = str(doc.get("code", "")).strip().upper()
        if code in seen:
            report.errors.append(RowError(line_of(i), "code", f"事项编码 {code} 重复（第{seen[code]}行已出现）"))
            continue
        seen[code] = line_of(i)
        unknown = set(doc) - set(GUIDE_FIELDS)
        if unknown:
            report.errors.append(RowError(line_of(i), ",".join(sorted(unknown)), "未知字段 / unknown field"))
            continue
        _validate(doc, line_of(i), report)


def _alias_entries(rows: list[Any], report: ImportReport, line_of=lambda i: i + 1) -> None:
    entries, lines = [], []
    for i, row in enumerate(rows):
        if isinstance(row, dict) and not any(str(v).strip() for v in row.values()):
            continue  # blank line
        try:
            entries.append(AliasDoc.model_validate(row))
            lines.append(line_of(i))
        except ValidationError as exc:
            report.errors.extend(RowError(line_of(i), f"aliases.{e['field']}", e["reason"])
                                 for e in validation_errors(exc))
    bad = set()
    for i, f, reason in dictionary_problems(entries):
        report.errors.append(RowError(lines[i], f"aliases.{f}", reason))
        bad.add(i)
    report.aliases = [e for i, e in enumerate(entries) if i not in bad]


def parse(raw: bytes, filename: str, existing: dict[str, GuideData] | None = None) -> ImportReport:
    """Read a file of guides or a FAQ sheet; the format comes from the file name's extension."""
    fmt = Path(filename).suffix.lower().lstrip(".").replace("yml", "yaml")
    report, existing = ImportReport(), existing or {}
    if fmt not in FORMATS:
        report.errors.append(RowError(0, "(file)", f"不支持的文件类型 .{fmt}，请使用 {', '.join(FORMATS)}"))
        return report
    try:
        if fmt in ("json", "yaml"):
            text, report.encoding = decode_text(raw)
            data = json.loads(text) if fmt == "json" else yaml.safe_load(text)
            docs = data.get("guides", data) if isinstance(data, dict) else data
            if not isinstance(docs, list):
                raise ValueError("应为事项列表（或 {\"guides\": [...]}）/ expected a list of guides")
            if isinstance(data, dict) and "aliases" in data:
                if not isinstance(data["aliases"], list):
                    raise ValueError("aliases 应为列表，每条含 term、canonical、kind / aliases must be a list")
                _alias_entries(data["aliases"], report)
            report.kind = "guides"
            _guide_docs(docs, report)
            return report
        header, rows, report.encoding, alias_table = _rows_from_table(raw, fmt)
    except (ValueError, json.JSONDecodeError, yaml.YAMLError) as exc:
        report.errors.append(RowError(0, "(file)", str(exc)))
        return report
    if alias_table is not None:
        alias_header, alias_rows = _keyed(alias_table)
        if {"term", "canonical"} <= set(alias_header):
            _alias_entries([{k: v for k, v in r.items() if k in ALIAS_COLUMNS} for r in alias_rows], report,
                           line_of=lambda i: i + 2)
        else:
            report.errors.append(RowError(1, "aliases", f"词典表（aliases）需要列 {','.join(ALIAS_COLUMNS)}（kind 可省略）"))
    if set(FAQ_COLUMNS) - {"code"} <= set(header):
        report.kind = "faq_sheet"
        _faq_sheet(rows, report, existing)
    elif "code" in header and "title" in header:
        report.kind = "guides"
        docs = [{k: _cell(v) for k, v in r.items() if k in GUIDE_FIELDS and str(v).strip()} for r in rows]
        _guide_docs(docs, report, line_of=lambda i: i + 2)
    else:
        missing = [c for c in FAQ_COLUMNS if c not in header and c != "code"]
        report.errors.append(RowError(1, "(header)", f"列名不对：FAQ 表需要列 {','.join(FAQ_COLUMNS)}（code 可省略），"
                                                         f"缺少 {','.join(missing)}；实际是 {','.join(header) or '(空)'}"))
    return report


def _cell(value: Any) -> Any:
    """Table cells hold lists/objects as JSON text."""
    text = str(value).strip()
    if text[:1] in "[{":
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return text
    return text


def _plan(kb: KnowledgeBase, report: ImportReport, live: dict[str, GuideData], replace: bool) -> None:
    """Fills the summary (what the import would change) and reports what cannot be changed: guides in
    review (and, replacing, left out of the file)."""
    summary, busy, in_file = report.summary, kb.in_review(), {g.code for g in report.guides}
    for g in report.guides:
        if g.code in busy:
            report.errors.append(RowError(report.lines[g.code], "code",
                                          f"事项 {g.code} 正在审核，不能导入覆盖，请等审核结束后再导入"))
        elif g.code not in live:
            summary.added.append(g.code)
        elif live[g.code] == g:
            summary.unchanged.append(g.code)
        else:
            summary.changed.append(g.code)
    report.guides = [g for g in report.guides if g.code not in busy]
    if replace:
        summary.archived = sorted(c for c in live if c not in in_file)
        for code in sorted(busy & set(summary.archived)):
            report.errors.append(RowError(0, "code", f"事项 {code} 正在审核，替换导入会将其归档，请先审核或驳回"))
        summary.archived = [c for c in summary.archived if c not in busy]
    if report.aliases is None:
        return
    current = {a.term: AliasDoc(term=a.term, canonical=a.canonical, kind=a.kind) for a in kb.aliases()}
    terms_in_file = {e.term for e in report.aliases}
    for e in report.aliases:
        if e.term not in current:
            summary.aliases_added.append(e.term)
        elif current[e.term] != e:
            summary.aliases_changed.append(e.term)
    if replace:
        summary.aliases_removed = sorted(t for t in current if t not in terms_in_file)


def import_file(kb: KnowledgeBase, raw: bytes, filename: str, actor: str, publish: bool = True,
                skip_bad: bool = False, replace: bool = False, dry_run: bool = False) -> ImportReport:
    """Validate everything; write nothing unless all is valid (or `skip_bad`), in one transaction.
    A guide in review is a row error (its draft is not overwritten). `replace` (publishing only) archives
    every live guide not in the file. `dry_run` fills `report.summary` and writes nothing. Raises
    WorkflowError (409) when a guide goes into review between the check and the write; then nothing is
    written either."""
    if replace and (skip_bad or not publish):
        raise WorkflowError("替换导入会归档文件中没有的事项：须直接发布，且整份文件无误（不能与草稿导入或跳过错误行同用）/ "
                            "a replacing import publishes a file without errors (no --draft, no --skip-bad)", 422)
    live = {g.code: g for g in kb.live()}
    report = parse(raw, filename, live)
    if replace and not report.guides and not report.errors:
        report.errors.append(RowError(0, "(file)", "文件中没有事项，替换导入会归档全部事项，未执行 / the file has no "
                                                   "guides: replacing would archive every guide"))
    if report.errors and not report.guides and report.aliases is None:
        return report  # nothing readable: no summary to make
    _plan(kb, report, live, replace)
    if (report.errors and not skip_bad) or dry_run:
        return report
    kb.apply_import(report.guides, actor, note=f"导入 {Path(filename).name}", publish=publish,
                    archive=report.summary.archived, aliases=report.aliases, replace_aliases=replace)
    report.written = True
    return report


# ---- export --------------------------------------------------------------------------------------
def export(kb: KnowledgeBase, fmt: str) -> bytes:
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt}; choose one of {', '.join(FORMATS)}")
    docs = []
    for g in kb.list(limit=1_000_000):
        doc = GuideData.model_validate(g.draft).model_dump(mode="json")
        doc.update(status=g.status, version=g.live_version, updated_by=g.updated_by,
                   updated_at=g.updated_at.isoformat())
        docs.append(doc)
    aliases = [{"term": a.term, "canonical": a.canonical, "kind": a.kind} for a in kb.aliases()]
    if fmt == "json":
        return json.dumps({"guides": docs, "aliases": aliases}, ensure_ascii=False, indent=2).encode()
    if fmt == "yaml":
        return yaml.safe_dump({"guides": docs, "aliases": aliases}, allow_unicode=True, sort_keys=False).encode()
    columns = GUIDE_FIELDS + META_FIELDS
    table = [[json.dumps(d[c], ensure_ascii=False) if isinstance(d[c], (list, dict)) else
              ("" if d[c] is None else neutralised(d[c])) for c in columns] for d in docs]
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(columns)
        writer.writerows(table)
        return out.getvalue().encode("utf-8-sig")  # BOM: Excel opens it as UTF-8
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "guides"
    ws.append(columns)
    for row in table:
        ws.append(row)
    sheet = wb.create_sheet(ALIAS_SHEET)
    sheet.append(ALIAS_COLUMNS)
    for a in aliases:
        sheet.append([neutralised(a[c]) for c in ALIAS_COLUMNS])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
