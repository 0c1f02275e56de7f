"""`opentrace jobs apply FILE.yaml`: job definitions as code, validated exactly as
`PUT /v1/jobs/{job}` validates them, applied all together or not at all.

The file maps each job's slug to its definition:

    nightly-product-import:
      title: Nightly product import
      aliases: [the import]
      timezone: Europe/Berlin
      schedule: "10 0 * * *"
      expect:
        start_within: 30m
        milestones: [{name: report-published, by: 5h50m}]
        metrics: {rows_skipped: {usual: true}}
"""

from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from sqlmodel.ext.asyncio.session import AsyncSession

from alerts.schedule import schedule_problems
from alerts.targets import unreachable_targets, unreachable_warning
from ingest.errors import problems as field_problems
from ingest.schemas import JobDefinition, is_slug
from storage import queries
from storage.audit import record_change
from storage.models import Job


class JobFileError(ValueError):
    pass


def read_definitions(path: str) -> dict[str, JobDefinition]:
    try:
        document = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise JobFileError(f"cannot read {path}: {exc}") from None
    if not isinstance(document, dict) or not document:
        raise JobFileError(f"{path}: expected a mapping of job slugs to definitions")
    definitions, problems = {}, []
    for slug, body in document.items():
        if not is_slug(slug):
            problems.append(f"{slug!r}: not a job slug (lowercase letters, digits, '.', '_', '-')")
            continue
        try:
            definition = JobDefinition.model_validate(body or {})
        except ValidationError as exc:
            problems += [f"{slug}.{'.'.join(str(p) for p in loc)}: {message}"
                         for loc, _, message in field_problems(exc)]
            continue
        problems += [f"{slug}.{field}: {message}" for field, message in definition_problems(definition)]
        definitions[slug] = definition
    if problems:
        raise JobFileError("nothing was changed:\n  " + "\n  ".join(problems))
    return definitions


async def definition_warnings(session: AsyncSession, job: Job) -> list[str]:
    """What `alerts` finds wrong with a stored definition without refusing it."""
    return [unreachable_warning(target) for target in await unreachable_targets(session, job)]


async def warnings_of(session: AsyncSession, slugs: list[str]) -> list[tuple[str, str]]:
    """(slug, warning) for the stored definitions of `slugs`."""
    found = []
    for slug in slugs:
        job = await queries.get_job(slug, session=session)
        found += [(slug, warning) for warning in (await definition_warnings(session, job) if job else [])]
    return found


def definition_problems(definition: JobDefinition) -> list[tuple[str, str]]:
    """The schedule checks of `alerts` on a definition of the contract (also used by PUT)."""
    return schedule_problems(definition.schedule, definition.timezone, definition.expect.start_within,
                             [milestone.by for milestone in definition.expect.milestones])


async def apply_definitions(session: AsyncSession, definitions: dict[str, JobDefinition],
                            now: datetime, *, actor: str, origin: str) -> list[tuple[str, str]]:
    """Create or replace each definition, each change audited as `actor` from `origin`;
    returns (slug, created|updated|unchanged)."""
    changed = []
    for slug, definition in definitions.items():
        fields: dict[str, Any] = definition.model_dump()
        fields["title"] = fields["title"] or slug
        existing = await queries.get_job(slug, session=session)
        changes = queries.definition_changes(existing, fields)
        if not changes:
            changed.append((slug, "unchanged"))
            continue
        await queries.put_job(slug, fields, now, session=session, commit=False)
        record_change("job.defined", actor=actor, target=slug, origin=origin, at=now,
                      details={"created": existing is None, "changed": changes}, session=session)
        changed.append((slug, "updated" if existing else "created"))
    await session.commit()
    return changed
