"""Members per tag (set by hand or answered) for the operators' digest, as a note per group.

Tags come and go by name, so they are counts as of now, not a daily series; automatic
tags are the activity plugin's segment figures already."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.plugin import DigestContribution, DigestQuery
from bot.storage import chunked
from plugins.tags import service
from plugins.tags.texts import TEXTS

NOTE_TAGS = 8  # the most used tags per group


async def contribute(session: AsyncSession, query: DigestQuery) -> DigestContribution:
    notes: dict[str, list[str]] = {}
    for chunk in chunked(query.group_ids):
        for group, counts in (await service.stored_counts(session, chunk)).items():
            top = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:NOTE_TAGS]
            text = " · ".join(f"{tag} {count}" for tag, count in top)
            notes[group] = [TEXTS.get(query.language, "digest.note", counts=text)]
    return DigestContribution(notes=notes)
