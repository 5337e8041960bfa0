"""The `govbot` command line."""
from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from core.logs import setup_logging
from core.settings import get_settings


def _services():
    from govbot.services import Services

    return Services(get_settings())


def cmd_setup_model(args: argparse.Namespace) -> None:
    from retrieval.model_build import build

    s = get_settings()
    build(s.embedding_model, s.var_dir / "wheels")


def cmd_train(args: argparse.Namespace) -> None:
    from govbot import rasa_project

    rasa_project.train(get_settings(), force=args.force, epochs_scale=args.epochs_scale)


def cmd_serve(args: argparse.Namespace) -> None:
    from govbot.stack import serve

    cmd_train(args)
    serve(get_settings(), args.epochs_scale)


def cmd_ask(args: argparse.Namespace) -> None:
    svc = _services()
    svc.live_index  # noqa: B018  (load once, then answer every question)
    questions = args.question or (line.strip() for line in sys.stdin)
    for q in questions:
        if not q:
            continue
        r = svc.retriever.search(q, k=max(5, args.top))
        if args.json:
            print(json.dumps({"question": q, "decision": r.decision, "confidence": round(r.confidence, 4),
                              "offered": [m.as_dict() for m in r.offered],
                              "matches": [m.as_dict() for m in r.matches]}, ensure_ascii=False), flush=True)
        else:
            print(f"{q}\n  → {r.decision} (confidence {r.confidence:.2f})")
            for m in r.matches[: args.top]:
                print(f"    {m.score:.3f}  {m.code}  {m.title}")


def cmd_calibrate(args: argparse.Namespace) -> None:
    """Without options: fit this instance's calibration on its live knowledge base now (the server does
    it by itself after imports and publishes). `--show`: what answers citizens now. `--set dev`: re-fit
    the shipped prior on an evaluation set of the sample knowledge base (maintainers)."""
    from retrieval.engine import CALIBRATION_FILE

    svc = _services()
    if args.show:
        svc.self_calibrator.current_fingerprint()
        print(json.dumps(svc.self_calibrator.status(), ensure_ascii=False, indent=2))
        return
    if args.set:
        from govbot.services import live_item
        from retrieval.calibrate import fit
        from retrieval.evaluate import load_cases
        from retrieval.self_calibration import fingerprint

        svc.retriever.calibration = None
        svc.live_index  # noqa: B018
        calibration, report = fit(svc.retriever, load_cases(args.set))
        report.update(fitted_on=f"retrieval/eval_data/{args.set}.yaml",
                      fingerprint=fingerprint([live_item(g) for g in svc.kb.live()]))
        calibration.save(CALIBRATION_FILE, report)
        print(json.dumps(report, ensure_ascii=False, indent=2))
        print(f"written {CALIBRATION_FILE}")
        return
    svc.self_calibrator.refresh(force=True)
    print(json.dumps(svc.self_calibrator.status()["fit"], ensure_ascii=False, indent=2))
    print(f"written {svc.calibration_file}")


def cmd_eval(args: argparse.Namespace) -> None:
    if args.what == "conversations":
        from govbot.conversation_eval import main as eval_conversations

        raise SystemExit(eval_conversations(args.url, args.only, args.json, args.epochs_scale, get_settings()))
    from govbot.benchmarks import run_eval

    run_eval(_services(), args.set, with_rasa=not args.no_rasa)


def cmd_bench(args: argparse.Namespace) -> None:
    from govbot.benchmarks import run_bench_chat, run_bench_insight, run_bench_load, run_bench_retrieval

    if args.what == "load":
        run_bench_load(get_settings(), args.rate, args.duration, args.citizens, args.concurrency, args.saturation)
    elif args.what == "retrieval":
        run_bench_retrieval(_services(), [int(n) for n in args.sizes.split(",")])
    elif args.what == "insight":
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            urls = {"sqlite": f"sqlite:///{tmp}/insight-bench.db", "postgres": args.postgres}
            run_bench_insight(get_settings(), args.turns or 1_000_000, [urls[d] for d in args.databases.split(",")])
    else:
        run_bench_chat(get_settings(), args.turns or 200)


def cmd_kb_import(args: argparse.Namespace) -> None:
    """A replacing import shows what it would change first: it goes ahead after a `y` at the terminal,
    or with --yes (scripts); --dry-run only shows."""
    from knowledge_base.transfer import import_file
    from knowledge_base.workflow import WorkflowError

    svc = _services()
    path = Path(args.file)
    if not path.exists():
        raise SystemExit(f"no such file: {path}")
    raw, publish = path.read_bytes(), not args.draft

    def run(dry_run: bool):
        try:
            return import_file(svc.kb, raw, path.name, args.actor, publish=publish, skip_bad=args.skip_bad,
                               replace=args.replace, dry_run=dry_run)
        except WorkflowError as exc:
            raise SystemExit(f"import refused: {exc}") from exc

    ask_first = args.replace and not args.yes
    report = run(dry_run=args.dry_run or ask_first)
    for e in report.errors:
        print(f"  {e}", file=sys.stderr)
    if report.errors and not args.skip_bad:
        raise SystemExit(f"import refused: {len(report.errors)} error(s), nothing written. Fix the rows above, "
                         "or pass --skip-bad to import only the valid rows.")
    if args.dry_run or ask_first:
        print(f"{path.name} ({report.kind}, {report.encoding}) would change the knowledge base so:")
        print("\n".join(f"  {line}" for line in report.summary.lines()))
        if args.dry_run:
            print("dry run: nothing written")
            return
        if not sys.stdin.isatty():
            raise SystemExit("nothing written: pass --yes to replace without asking (scripts)")
        if input("replace the knowledge base so? [y/N] ").strip().lower() not in ("y", "yes"):
            raise SystemExit("nothing written")
        report = run(dry_run=False)
    state = "as drafts" if args.draft else "and published"
    print(f"imported {len(report.guides)} guide(s) {state} from {path.name} ({report.kind}, {report.encoding})")
    print("\n".join(f"  {line}" for line in report.summary.lines()))


def cmd_kb_export(args: argparse.Namespace) -> None:
    from knowledge_base.transfer import export

    data = export(_services().kb, args.format)
    if args.output:
        Path(args.output).write_bytes(data)
        print(f"written {args.output}", file=sys.stderr)
    else:
        sys.stdout.buffer.write(data)


def _new_password(args: argparse.Namespace) -> str | None:
    """--password-stdin: the first line of stdin (for scripts); --password: typed twice, not echoed."""
    import getpass

    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not args.password:
        return None
    password = getpass.getpass(f"password for {args.name}: ")
    if getpass.getpass("again: ") != password:
        raise SystemExit("the two passwords differ; nothing changed")
    return password


def cmd_users_add(args: argparse.Namespace) -> None:
    from core.auth import add_user

    try:
        token = add_user(_services().db, args.name, args.role, args.token, password=_new_password(args))
    except ValueError as exc:
        raise SystemExit(str(exc)) from exc
    print(f"{args.name} ({args.role}) token: {token}")


def cmd_users_list(args: argparse.Namespace) -> None:
    from core.auth import list_users

    print(f"{'name':<24} {'role':<9} {'password':<9} {'state':<28} sessions")
    for u in list_users(_services().db):
        state = "disabled" if u.disabled else "active"
        if u.locked_until:
            state += f", locked until {u.locked_until:%Y-%m-%d %H:%M}Z"
        print(f"{u.name:<24} {u.role:<9} {'yes' if u.has_password else 'no':<9} {state:<28} {u.sessions}")


def cmd_users_set_disabled(args: argparse.Namespace) -> None:
    from core.auth import set_disabled

    try:
        set_disabled(_services().db, args.name, disabled=args.users == "disable")
    except KeyError:
        raise SystemExit(f"no operator named {args.name!r}") from None
    print(f"{args.name} {args.users}d" + (": token refused, sessions ended" if args.users == "disable" else ""))


def cmd_report(args: argparse.Namespace) -> None:
    from insight.analytics import Period, PeriodError
    from insight.chart_library import ChartLibraryMissing
    from insight.report import write_report
    from insight.rollup import catch_up

    try:
        if args.since.endswith("d"):
            period = Period.parse(None, args.to, default_days=int(args.since[:-1]))
        else:
            period = Period.parse(args.since, args.to)
    except (PeriodError, ValueError) as exc:
        raise SystemExit(f"--since takes a number of days (7d) or a date (2025-01-01): {exc}") from exc
    svc = _services()
    catch_up(svc.db)
    try:
        print(write_report(svc.insight, svc.gaps.list(), period, Path(args.output)))
    except ChartLibraryMissing as exc:
        raise SystemExit(str(exc)) from exc
    print(f"written {args.output}")


def cmd_purge(args: argparse.Namespace) -> None:
    from govbot.retention import parse_age, purge

    try:
        age = parse_age(args.older_than)
    except ValueError as exc:
        raise SystemExit(f"--older-than: {exc}") from exc
    settings = get_settings()
    removed = purge(_services().db, settings.tracker_url, age)
    print(f"removed (older than {age.days} days): " + ", ".join(f"{n} {what}" for what, n in removed.items()))


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="govbot", description="政务通 GovBot: government-service chatbot")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("setup-model", help="build the offline e5 embedding model").set_defaults(fn=cmd_setup_model)
    t = sub.add_parser("train", help="train the Rasa model if its inputs changed")
    t.add_argument("--force", action="store_true")
    t.add_argument("--epochs-scale", type=float, default=1.0, help="e.g. 0.5 for a quicker, rougher model")
    t.set_defaults(fn=cmd_train)
    sv = sub.add_parser("serve", help="run Rasa + the app on the embedded defaults (trains first if needed)")
    sv.add_argument("--epochs-scale", type=float, default=1.0, help="train a quicker model, e.g. 0.3")
    sv.add_argument("--force", action="store_true", help=argparse.SUPPRESS)
    sv.set_defaults(fn=cmd_serve)
    a = sub.add_parser("ask", help="retrieval from the command line")
    a.add_argument("question", nargs="*")
    a.add_argument("--json", action="store_true", help="one JSON line per question (stdin: one per line)")
    a.add_argument("--top", type=int, default=5)
    a.set_defaults(fn=cmd_ask)
    c = sub.add_parser("calibrate", help="fit the answer/clarify calibration on the live knowledge base now")
    c.add_argument("--show", action="store_true", help="print the calibration in use, its date and figures")
    c.add_argument("--set", help="instead, re-fit the shipped prior on an evaluation set (e.g. dev)")
    c.set_defaults(fn=cmd_calibrate)
    e = sub.add_parser("eval", help="compare retrieval systems on an evaluation set, or run the conversation set")
    e.add_argument("what", nargs="?", choices=["retrieval", "conversations"], default="retrieval")
    e.add_argument("--set", default="test", help="retrieval: the evaluation set")
    e.add_argument("--no-rasa", action="store_true", help="retrieval: skip the Rasa ResponseSelector baseline")
    e.add_argument("--url", help="conversations: a running stack (its database is DATABASE_URL's); "
                                 "default: start one on a scratch database")
    e.add_argument("--only", help="conversations: one file, category or conversation id")
    e.add_argument("--json", action="store_true", help="conversations: the result as JSON on stdout")
    e.add_argument("--epochs-scale", type=float, default=1.0,
                   help="conversations, own stack: train a quicker model, e.g. 0.3")
    e.set_defaults(fn=cmd_eval)
    b = sub.add_parser("bench", help="benchmarks that print numbers")
    b.add_argument("what", choices=["retrieval", "chat", "insight", "load"])
    b.add_argument("--rate", type=float, default=15, help="load: messages per second in total (Poisson)")
    b.add_argument("--duration", type=float, default=120, help="load: seconds of open-loop arrivals")
    b.add_argument("--citizens", type=int, default=200, help="load: simulated citizens")
    b.add_argument("--concurrency", type=int, default=16, help="load: conversations at once for saturation")
    b.add_argument("--saturation", type=float, default=30, help="load: seconds of each saturation run")
    b.add_argument("--sizes", default="0,10000,100000", help="synthetic FAQ entries added (0 = sample only)")
    b.add_argument("--turns", type=int, help="chat: turns sent (200); insight: synthetic turns (1,000,000)")
    b.add_argument("--databases", default="sqlite,postgres", help="insight: sqlite and/or postgres")
    b.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test",
                   help="insight: the PostgreSQL server (a scratch schema is made and dropped)")
    b.set_defaults(fn=cmd_bench)
    r = sub.add_parser("report", help="the dashboard's figures as one self-contained HTML file")
    r.add_argument("--since", default="7d", help="7d = the last 7 days, or a start date YYYY-MM-DD")
    r.add_argument("--to", help="last day (YYYY-MM-DD, local time; default today)")
    r.add_argument("--output", "-o", required=True, help="FILE.html")
    r.set_defaults(fn=cmd_report)
    pg = sub.add_parser("purge", help="data retention: delete turns, conversations, closed tickets, past "
                                      "appointments and Rasa conversations older than a period")
    pg.add_argument("--older-than", required=True, help="e.g. 180d (days) or 26w (weeks)")
    pg.set_defaults(fn=cmd_purge)
    kb = sub.add_parser("kb", help="knowledge base import/export").add_subparsers(dest="kb", required=True)
    i = kb.add_parser("import")
    i.add_argument("file")
    i.add_argument("--draft", action="store_true", help="import as drafts for review instead of publishing")
    i.add_argument("--skip-bad", action="store_true", help="import the valid rows, report the rest")
    i.add_argument("--replace", action="store_true",
                   help="the file is the whole knowledge base: archive every live guide it leaves out "
                        "(shows what would change and asks first)")
    i.add_argument("--yes", action="store_true", help="with --replace: do not ask (scripts)")
    i.add_argument("--dry-run", action="store_true", help="show what the import would change; write nothing")
    i.add_argument("--actor", default="cli-import")
    i.set_defaults(fn=cmd_kb_import)
    x = kb.add_parser("export")
    x.add_argument("--format", choices=["json", "yaml", "csv", "xlsx"], default="json")
    x.add_argument("-o", "--output")
    x.set_defaults(fn=cmd_kb_export)
    u = sub.add_parser("users", help="operator accounts").add_subparsers(dest="users", required=True)
    ua = u.add_parser("add")
    ua.add_argument("name")
    ua.add_argument("--role", required=True, choices=["editor", "reviewer", "admin", "agent"])
    ua.add_argument("--token", help="use this token instead of a random one")
    pw = ua.add_mutually_exclusive_group()
    pw.add_argument("--password", action="store_true", help="set a sign-in password (asked twice)")
    pw.add_argument("--password-stdin", action="store_true", help="read the password from stdin's first line")
    ua.set_defaults(fn=cmd_users_add)
    u.add_parser("list", help="operators, their state and open sessions").set_defaults(fn=cmd_users_list)
    for verb, what in (("disable", "refuse its token and password, end its sessions"),
                       ("enable", "allow it again and lift a lock-out")):
        ud = u.add_parser(verb, help=what)
        ud.add_argument("name")
        ud.set_defaults(fn=cmd_users_set_disabled)
    return p


def main(argv: list[str] | None = None) -> None:
    setup_logging(logging.WARNING)
    args = parser().parse_args(argv)
    args.fn(args)


if __name__ == "__main__":
    main()
