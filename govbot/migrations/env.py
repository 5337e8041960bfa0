"""Alembic environment: runs on the connection govbot.migrations.upgrade() hands over (or on sqlalchemy.url)."""
from alembic import context
from sqlalchemy import create_engine

import bot.models  # noqa: F401  (registers tables)
import connectors.models  # noqa: F401
import core.auth  # noqa: F401
import knowledge_base.models  # noqa: F401
import insight.models  # noqa: F401
from core.db import Base

config = context.config
target_metadata = Base.metadata


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        with create_engine(config.get_main_option("sqlalchemy.url")).begin() as conn:
            context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
            context.run_migrations()
        return
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


run()
