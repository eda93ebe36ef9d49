"""The leaderboard's database: one challenge per database file (SQLite by default).

Times are stored as naive UTC datetimes; `Challenge.timezone` (an IANA name) only decides
where a day starts for the daily limit and how times are shown. Labels and the public/private
split are stored as uint8 byte strings, one byte per challenge image, in the published order.
Tokens are stored as SHA-256 hex digests (they are 32 random bytes, so a plain hash suffices).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import pathlib

from sqlalchemy import (Boolean, DateTime, Float, ForeignKey, Integer, LargeBinary, String,
                        create_engine, event)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, sessionmaker


class Base(DeclarativeBase):
    pass


class Challenge(Base):
    __tablename__ = "challenge"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    deadline: Mapped[dt.datetime] = mapped_column(DateTime)  # naive UTC
    timezone: Mapped[str] = mapped_column(String(64))
    daily_limit: Mapped[int] = mapped_column(Integer, default=3)
    public_fraction: Mapped[float] = mapped_column(Float, default=0.1)
    max_upload_bytes: Mapped[int] = mapped_column(Integer, default=1 << 20)
    flag_margin: Mapped[float] = mapped_column(Float, default=0.05)
    labels: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    public_mask: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    images_path: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    images_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)


class Participant(Base):
    __tablename__ = "participant"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    student_id: Mapped[str] = mapped_column(String(200), unique=True)
    email: Mapped[str | None] = mapped_column(String(300), nullable=True)
    display_name: Mapped[str | None] = mapped_column(String(40), nullable=True)
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    is_baseline: Mapped[bool] = mapped_column(Boolean, default=False)
    selected_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    verified_accuracy: Mapped[float | None] = mapped_column(Float, nullable=True)
    verified_source: Mapped[str | None] = mapped_column(String(300), nullable=True)
    submissions: Mapped[list[Submission]] = relationship(back_populates="participant",
                                                         order_by="Submission.id")


class Submission(Base):
    __tablename__ = "submission"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)  # naive UTC
    content: Mapped[bytes] = mapped_column(LargeBinary)  # the uploaded CSV, kept for re-scoring
    public_accuracy: Mapped[float] = mapped_column(Float)
    private_accuracy: Mapped[float] = mapped_column(Float)
    participant: Mapped[Participant] = relationship(back_populates="submissions")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def open_database(path: str | pathlib.Path):
    """A sessionmaker bound to the SQLite file at `path` (created with its tables if new).
    A string starting with a URL scheme (`postgresql://...`) is used as the database URL."""
    text = str(path)
    if "://" in text:
        url = text
    else:
        pathlib.Path(text).parent.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{pathlib.Path(text).resolve()}"
    engine = create_engine(url, connect_args={"check_same_thread": False}
                           if url.startswith("sqlite") else {})
    if url.startswith("sqlite"):
        @event.listens_for(engine, "connect")
        def _pragmas(connection, _record):
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=5000")
            cursor.close()
    Base.metadata.create_all(engine)
    return sessionmaker(engine, expire_on_commit=False)
