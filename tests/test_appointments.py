import datetime as dt

from sqlalchemy import select, text

from bot.appointments import canonical_slot, clean_mobile, clean_name


def test_slot_spellings_have_one_canonical_form_and_invented_slots_none():
    for spelling in ("9:00-10:00", "09:00-10:00 ", " 9：00—10：00", "09:00 - 10:00", "9:00至10:00", "9:00－10:00"):
        assert canonical_slot(spelling) == "09:00-10:00", spelling
    for invented in ("08:00-09:00", "12:00-13:00", "9:00-11:00", "9点", "", "09:00-10:00-11:00"):
        assert canonical_slot(invented) is None, invented


def test_names_and_mobiles():
    assert clean_name("我叫王小明") == "王小明" and clean_name("<b>x</b>") is None and clean_name("王" * 13) is None
    assert clean_mobile("138 1234-5678") == "13812345678" and clean_mobile("12345") is None
    assert clean_mobile("１３８１２３４５６７８") == "13812345678" and clean_mobile("+86 138 1234 5678") == "13812345678"


def test_a_name_looks_like_a_name_not_a_sentence():
    for name in ("王小明", "欧阳娜娜", "买买提·艾力", "姓名：李秀英", "Anna Li", "周杰"):
        assert clean_name(name), name
    for sentence in ("不对我想改成下周三", "我想预约", "要带什么", "好的", "张", "王小明的妈妈", "改成后天吧"):
        assert clean_name(sentence) is None, sentence


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
