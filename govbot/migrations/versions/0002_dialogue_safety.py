"""bookings and progress: atomic capacity, normalised slots, wrong-tail lockouts

Revision ID: 0002_dialogue_safety
Revises: 0001
"""
import re

from alembic import op
import sqlalchemy as sa

revision = '0002_dialogue_safety'
down_revision = '0001'
branch_labels = None
depends_on = None

_SLOT = re.compile(r"\s*(\d{1,2})[:：](\d{2})\s*[-－–—~～至到]\s*(\d{1,2})[:：](\d{2})\s*")


def _canonical(slot: str) -> str:
    m = _SLOT.fullmatch(slot)
    return "{:02d}:{:02d}-{:02d}:{:02d}".format(*map(int, m.groups())) if m else slot.strip()


def upgrade() -> None:
    seats = op.create_table(
        'appointment_slots',
        sa.Column('service_code', sa.String(length=40), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('slot', sa.String(length=11), nullable=False),
        sa.Column('taken', sa.Integer(), nullable=False),
        sa.CheckConstraint('taken >= 0', name='ck_appointment_slots_taken'),
        sa.PrimaryKeyConstraint('service_code', 'day', 'slot'),
    )
    op.create_table(
        'tail_lockouts',
        sa.Column('subject', sa.String(length=60), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('subject'),
    )
    # existing bookings: slots in the canonical "HH:MM-HH:MM", and the seats they hold counted once
    conn = op.get_bind()
    appointments = sa.table('appointments', sa.column('code', sa.String), sa.column('service_code', sa.String),
                            sa.column('day', sa.Date), sa.column('slot', sa.String), sa.column('status', sa.String))
    taken: dict[tuple, int] = {}
    for code, service, day, slot, status in conn.execute(sa.select(appointments)).all():
        canonical = _canonical(slot)
        if canonical != slot:
            conn.execute(appointments.update().where(appointments.c.code == code).values(slot=canonical))
        if status == 'booked':
            taken[(service, day, canonical)] = taken.get((service, day, canonical), 0) + 1
    if taken:
        op.bulk_insert(seats, [{'service_code': s, 'day': d, 'slot': t, 'taken': n} for (s, d, t), n in taken.items()])


def downgrade() -> None:
    op.drop_table('tail_lockouts')
    op.drop_table('appointment_slots')
