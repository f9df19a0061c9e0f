"""Users' skills (medical, legal, code, ...) and which prompt tags a rater may not be given in a campaign.

    hitl workforce skills alice --add medical --add legal

A campaign's rules map prompt tags to required skills (WorkforceRules.skills); an item whose prompt carries such a
tag goes only to raters with every skill its tags require. The queue filters on the tags a rater lacks the skill
for (`forbidden_tags`), so a rater with every skill, or a campaign without a skill map, takes the plain path.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from sqlalchemy import delete, insert, select

from hitl.errors import InvalidInput, NotFound
from hitl.store import Store
from hitl.store.schema import campaigns, user_skills, users
from hitl.workforce.rules import check_skill, rules_from_json


def skills_of(conn, user_id: int) -> set[str]:
    """The skills of one user, read on the caller's connection."""
    return set(conn.execute(select(user_skills.c.skill).where(user_skills.c.user_id == user_id)).scalars())


def user_skill_names(store: Store, name: str) -> list[str]:
    """The skills of the user called `name`, sorted."""
    with store.read() as conn:
        uid = conn.execute(select(users.c.id).where(users.c.name == name)).scalar()
        if uid is None:
            raise NotFound(f"no user named {name!r} (see `hitl users list`)")
        return sorted(skills_of(conn, uid))


def set_skills(store: Store, name: str, add: Iterable[str] = (), remove: Iterable[str] = ()) -> list[str]:
    """Add and remove skills of a user in one transaction (every name checked first); returns the new skills."""
    add, remove = [check_skill(s) for s in add], [check_skill(s) for s in remove]
    both = sorted(set(add) & set(remove))
    if both:
        raise InvalidInput(f"skill(s) {', '.join(both)} both added and removed: pick one")
    with store.write() as conn:
        uid = conn.execute(select(users.c.id).where(users.c.name == name)).scalar()
        if uid is None:
            raise NotFound(f"no user named {name!r} (see `hitl users list`)")
        have = skills_of(conn, uid)
        now = time.time()
        new = sorted(set(add) - have)
        if new:
            conn.execute(insert(user_skills), [{"user_id": uid, "skill": s, "created_at": now} for s in new])
        if remove:
            conn.execute(delete(user_skills).where(user_skills.c.user_id == uid, user_skills.c.skill.in_(remove)))
        return sorted((have | set(new)) - set(remove))


def campaigns_needing(conn, skills: Iterable[str]) -> dict[str, list[str]]:
    """skill -> the campaigns whose rules need it (skill map or escalation skill), for each of `skills`."""
    wanted = set(skills)
    out: dict[str, list[str]] = {}
    for name, value in conn.execute(select(campaigns.c.name, campaigns.c.workforce).order_by(campaigns.c.name)):
        rules = rules_from_json(value)
        needed = set(rules.skills.values()) | ({rules.escalation_skill} if rules.escalation_skill else set())
        for skill in sorted(needed & wanted):
            out.setdefault(skill, []).append(name)
    return out


def unheld_warning(store: Store, skills: Iterable[str]) -> str | None:
    """A warning when some of `skills` (just removed from someone, say) are needed by a campaign's rules and no
    active user holds them any more: those items reach nobody until someone has the skill. None when all is well.
    Removing a skill is never refused (a wrong or stale skill must be removable at once); it is said out loud."""
    with store.read() as conn:
        needing = campaigns_needing(conn, skills)
        holders = skill_holders(conn, needing)
    gone = {skill: names for skill, names in needing.items() if holders[skill] == 0}
    if not gone:
        return None
    parts = [f"{skill!r} (campaign(s) {', '.join(names)})" for skill, names in gone.items()]
    first = next(iter(gone))
    return (
        f"no active user holds {', '.join(parts)} any more: the items routed by it reach nobody until someone has "
        f"it (hitl workforce skills NAME --add {first})"
    )


def skill_holders(conn, skills: Iterable[str]) -> dict[str, int]:
    """How many active users hold each of `skills` (0 for a skill nobody has)."""
    wanted = sorted(set(skills))
    counts = {s: 0 for s in wanted}
    if wanted:
        rows = conn.execute(
            select(user_skills.c.skill, users.c.id)
            .join(users, users.c.id == user_skills.c.user_id)
            .where(user_skills.c.skill.in_(wanted), users.c.active.is_(True))
        ).all()
        for skill, _ in rows:
            counts[skill] += 1
    return counts


def forbidden_tags(skill_map: dict[str, str], skills: set[str]) -> tuple[str, ...]:
    """The prompt tags whose required skill is not among `skills` (sorted, so equal routes compare equal)."""
    return tuple(sorted(tag for tag, skill in skill_map.items() if skill not in skills))


def required_skills(skill_map: dict[str, str], tags: Iterable[str]) -> set[str]:
    """The skills an item with these prompt tags requires."""
    return {skill_map[t] for t in tags if t in skill_map}
