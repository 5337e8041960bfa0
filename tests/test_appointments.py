import datetime as dt

from sqlalchemy import select, text

from bot.appointments import canonical_slot, clean_mobile, clean_name, date_problem, parse_date, parse_slot

TODAY = dt.date(2026, 11, 23)  # a Monday


def test_relative_and_absolute_dates():
    assert parse_date("明天", TODAY) == dt.date(2026, 11, 24)
    assert parse_date("下周二", TODAY) == dt.date(2026, 12, 1)
    assert parse_date("周五", TODAY) == dt.date(2026, 11, 27)
    assert parse_date("12月3日", TODAY) == dt.date(2026, 12, 3)
    assert parse_date("2026-12-01", TODAY) == dt.date(2026, 12, 1)
    assert parse_date("1月5号", TODAY) == dt.date(2027, 1, 5)
    assert parse_date("随便哪天", TODAY) is None
    assert parse_date("2月30日", TODAY) is None


def test_date_rules_working_days_within_30_days():
    assert date_problem(dt.date(2026, 11, 20), TODAY) == "这个日期已经过去了"
    assert "当天" in date_problem(TODAY, TODAY)
    assert "周末" in date_problem(dt.date(2026, 11, 28), TODAY)
    assert "30天" in date_problem(dt.date(2027, 1, 4), TODAY)
    assert date_problem(dt.date(2026, 11, 25), TODAY) is None


def test_time_slots():
    assert parse_slot("9点") == "09:00-10:00"
    assert parse_slot("下午2点半") == "14:30-15:30"
    assert parse_slot("14:00") == "13:30-14:30"
    assert parse_slot("晚上8点") is None
    assert parse_slot(" 9:00-10:00 ") == "09:00-10:00"


def test_slot_spellings_have_one_canonical_form_and_invented_slots_none():
    for spelling in ("9:00-10:00", "09:00-10:00 ", " 9：00—10：00", "09:00 - 10:00", "9:00至10:00", "9:00－10:00"):
        assert canonical_slot(spelling) == "09:00-10:00", spelling
    for invented in ("08:00-09:00", "12:00-13:00", "9:00-11:00", "9点", "", "09:00-10:00-11:00"):
        assert canonical_slot(invented) is None, invented


def test_names_and_mobiles():
    assert clean_name("我叫王小明") == "王小明" and clean_name("<b>x</b>") is None and clean_name("王" * 13) is None
    assert clean_mobile("138 1234-5678") == "13812345678" and clean_mobile("12345") is None


def test_migration_normalises_existing_slots_and_counts_their_seats(tmp_path):
    from alembic import command
    from alembic.config import Config

    import govbot.migrations
    from bot.models import Appointment, SlotSeats
    from core.db import Database
    from govbot.migrations import upgrade

    db = Database(f"sqlite:///{tmp_path / 'old.db'}")
    cfg = Config()
    cfg.set_main_option("script_location", govbot.migrations.__path__[0])
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
        for code, slot, status in (("AAAAAA", "9:00-10:00", "booked"), ("BBBBBB", "09:00-10:00 ", "booked"),
                                   ("CCCCCC", "09:00-10:00", "cancelled")):
            conn.execute(text("INSERT INTO appointments VALUES (:code, 's', 'GA-CR-01', '护照', '2026-11-25', :slot,"
                              " '王小明', '13812345678', :status, '2026-11-20 10:00:00')"),
                         {"code": code, "slot": slot, "status": status})
    upgrade(db)
    with db.session() as s:
        assert set(s.scalars(select(Appointment.slot))) == {"09:00-10:00"}
        seats = s.scalars(select(SlotSeats)).one()
        assert (seats.slot, seats.taken) == ("09:00-10:00", 2)
