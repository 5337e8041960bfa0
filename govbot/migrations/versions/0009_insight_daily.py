"""insight: daily volume and hour-of-day rollups instead of hourly rows; per-month twins of the service,
latency and question rollups (a year reads 12 months plus the edge days); turns indexed by (sender_id, id)

The new tables are filled from the old ones, so figures whose turns were purged are kept.

Revision ID: 0009_insight_daily
Revises: 0008_aliases
"""
from collections import Counter

from alembic import op
import sqlalchemy as sa

from insight.buckets import month_of_day

revision = '0009_insight_daily'
down_revision = '0008_aliases'
branch_labels = None
depends_on = None

MONTHLY = (('insight_service_monthly', 'insight_service_daily', 'code', sa.String(length=40)),
           ('insight_latency_monthly', 'insight_latency_daily', 'latency_ms', sa.Integer()),
           ('insight_question_monthly', 'insight_question_daily', 'question', sa.String(length=200)))


def upgrade() -> None:
    with op.batch_alter_table('turns') as batch_op:
        batch_op.drop_index('ix_turns_sender_id')
        batch_op.create_index('ix_turns_sender_id_id', ['sender_id', 'id'], unique=False)
    op.create_table('insight_daily',
                    sa.Column('day', sa.Integer(), nullable=False),
                    sa.Column('channel', sa.String(length=20), nullable=False),
                    sa.Column('author', sa.String(length=10), nullable=False),
                    sa.Column('decision', sa.String(length=10), nullable=False),
                    sa.Column('handoff', sa.Boolean(), nullable=False),
                    sa.Column('n', sa.Integer(), nullable=False),
                    sa.PrimaryKeyConstraint('day', 'channel', 'author', 'decision', 'handoff'),
                    sqlite_with_rowid=False)
    op.create_table('insight_hour_of_day',
                    sa.Column('day', sa.Integer(), nullable=False),
                    sa.Column('hour', sa.Integer(), nullable=False),
                    sa.Column('n', sa.Integer(), nullable=False),
                    sa.PrimaryKeyConstraint('day', 'hour'), sqlite_with_rowid=False)
    # local day = (UTC hour + 8) // 24, local hour of the day = (UTC hour + 8) % 24 (hours are positive)
    op.execute("INSERT INTO insight_daily (day, channel, author, decision, handoff, n) "
               "SELECT (hour + 8) / 24, channel, author, decision, handoff, SUM(n) FROM insight_hourly "
               "GROUP BY (hour + 8) / 24, channel, author, decision, handoff")
    op.execute("INSERT INTO insight_hour_of_day (day, hour, n) "
               "SELECT (hour + 8) / 24, (hour + 8) % 24, SUM(n) FROM insight_hourly WHERE author = 'citizen' "
               "GROUP BY (hour + 8) / 24, (hour + 8) % 24")
    op.drop_table('insight_hourly')
    conn = op.get_bind()
    for name, source, key, key_type in MONTHLY:
        table = op.create_table(name,
                                sa.Column('month', sa.Integer(), nullable=False),
                                sa.Column(key, key_type, nullable=False),
                                sa.Column('n', sa.Integer(), nullable=False),
                                sa.PrimaryKeyConstraint('month', key), sqlite_with_rowid=False)
        counts: Counter = Counter()
        for day, value, n in conn.execute(sa.text(f"SELECT day, {key}, n FROM {source}")):
            counts[(month_of_day(day), value)] += n
        if counts:
            op.bulk_insert(table, [{'month': month, key: value, 'n': n} for (month, value), n in counts.items()])


def downgrade() -> None:
    for name, _, _, _ in MONTHLY:
        op.drop_table(name)
    op.create_table('insight_hourly',
                    sa.Column('hour', sa.Integer(), nullable=False),
                    sa.Column('channel', sa.String(length=20), nullable=False),
                    sa.Column('author', sa.String(length=10), nullable=False),
                    sa.Column('decision', sa.String(length=10), nullable=False),
                    sa.Column('handoff', sa.Boolean(), nullable=False),
                    sa.Column('n', sa.Integer(), nullable=False),
                    sa.PrimaryKeyConstraint('hour', 'channel', 'author', 'decision', 'handoff'),
                    sqlite_with_rowid=False)
    # the hour within the day is not kept per channel and decision: the day's first hour stands for the day
    op.execute("INSERT INTO insight_hourly (hour, channel, author, decision, handoff, n) "
               "SELECT day * 24 - 8, channel, author, decision, handoff, n FROM insight_daily")
    op.drop_table('insight_hour_of_day')
    op.drop_table('insight_daily')
    with op.batch_alter_table('turns') as batch_op:
        batch_op.drop_index('ix_turns_sender_id_id')
        batch_op.create_index('ix_turns_sender_id', ['sender_id'], unique=False)
