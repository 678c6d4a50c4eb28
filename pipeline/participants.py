"""Whose data is it: participant ids from folders, identity checks, and undoing an import
(issue 13, "Data of two people merged", "A wrong --participant or --timezone cannot be
undone").

- :func:`participant_from_folders`: the participant of a file in an inbox;
- :func:`unknown_id_message`: a ``--participant`` id that matches no stored participant but
  resembles one (``1503960366`` for ``fitabase-1503960366``) is refused with the suggestion;
- :func:`identity_conflict` / :func:`device_warning`: an Apple export's ``Me`` record and
  devices against what is stored for the participant;
- :func:`forget_import`, :func:`forget_participant`, :func:`reassign`: remove or move what
  imports wrote, recompute what depended on it, keep the history in the ledger.

SQL lives in :mod:`pipeline.store_ledger`.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from pipeline import store_ledger
from pipeline.store_outputs import transaction

#: folder names that never name a person: an inbox, or the folders an export unpacks into
GENERIC_FOLDERS = frozenset(
    {
        "inbox",
        "apple_health_export",
        "export",
        "exports",
        "takeout",
        "download",
        "downloads",
        "myfitbitdata",
        "fitbit",
        "global export data",
        "physical activity",
        "sleep",
        "oura",
        "garmin",
        "weather",
        "data",
    }
)
#: prefixes importers put before the id a person knows (``fitabase-<Fitbit Id>``)
KNOWN_PREFIXES = ("fitabase-",)


class ParticipantError(ValueError):
    """A request about participants or imports that cannot be done (one line, for the CLI)."""


class IdentityError(ValueError):
    """An export's owner (its ``Me`` record) is not the participant it is imported for."""


# ---------------------------------------------------------------------------- folder names


def participant_from_folders(path: Path, inbox_root: Path | None) -> str | None:
    """The participant of a file under ``inbox_root``: the first folder below the root that
    is not a generic name (:data:`GENERIC_FOLDERS`), so ``sample_data/inbox/p01/export.zip``
    is ``p01`` whether the root is ``sample_data`` or ``sample_data/inbox``. The first, not
    the nearest: an unpacked export's own folders (``MyFitbitData/<name>/Sleep``) are below
    the person's. None for a file with no such folder (directly in the inbox)."""
    if inbox_root is None or not Path(inbox_root).is_dir():
        return None
    try:
        rel = Path(path).resolve().relative_to(Path(inbox_root).resolve())
    except ValueError:
        return None
    for part in rel.parts[:-1]:
        if part.strip().lower() not in GENERIC_FOLDERS:
            return part
    return None


# ------------------------------------------------------------------------- id resemblance


def _bare(pid: str) -> str:
    p = pid.strip().lower()
    for prefix in KNOWN_PREFIXES:
        if p.startswith(prefix):
            return p[len(prefix) :]
    return p


def _letters(pid: str) -> str:
    return re.sub(r"[^a-z]", "", _bare(pid))


def _digits(pid: str) -> str:
    d = re.sub(r"\D", "", pid)
    return d.lstrip("0") or ("0" if d else "")


def resembling(given: str, stored: Iterable[str]) -> list[str]:
    """Stored ids that ``given`` may have meant: the same apart from case or a known prefix
    (``fitabase-``), or with the same number: a long one (``1503960366``) whatever the
    letters, a short one with the same letters (``P1`` for ``p01``, not ``r1`` for ``w1``)."""
    out = []
    for sid in stored:
        if sid == given:
            continue
        same_digits = bool(_digits(given)) and _digits(sid) == _digits(given)
        # short numbers (p1, w1) only with the same letters: r1 is not a slip for w1
        if (
            _bare(sid) == _bare(given)
            or same_digits
            and (len(_digits(given)) >= 4 or _letters(sid) == _letters(given))
        ):
            out.append(sid)
    return sorted(out, key=lambda s: (_bare(s) != _bare(given), s))


def unknown_id_message(con: duckdb.DuckDBPyConnection, participant_id: str) -> str | None:
    """Why ``participant_id`` is refused, or None: refused when it matches no stored
    participant but resembles one."""
    ids = store_ledger.participant_ids(con)
    if participant_id in ids:
        return None
    like = resembling(participant_id, ids)
    if not like:
        return None
    also = f" (or {', '.join(like[1:4])})" if len(like) > 1 else ""
    return (
        f"no participant {participant_id!r} in the store; did you mean {like[0]}?{also} "
        f"Pass --participant {like[0]}, or --new-participant to create {participant_id!r}"
    )


def check_new_id(
    con: duckdb.DuckDBPyConnection, participant_id: str, new_participant: bool = False
) -> None:
    if not new_participant:
        msg = unknown_id_message(con, participant_id)
        if msg:
            raise ParticipantError(msg)


# ------------------------------------------------------------------------ identity of exports


def identity_conflict(
    con: duckdb.DuckDBPyConnection, participant_id: str, me: pl.DataFrame
) -> str | None:
    """Why an export whose ``Me`` record is ``me`` (participants rows: sex, birth_year) is not
    ``participant_id``'s, or None when nothing stored contradicts it."""
    stored = store_ledger.participant(con, participant_id)
    if stored is None or me.height == 0:
        return None
    row = me.row(0, named=True)
    diffs = []
    if row.get("sex") and stored["sex"] and row["sex"] != stored["sex"]:
        diffs.append(f"sex {row['sex']} (stored: {stored['sex']})")
    if row.get("birth_year") and stored["birth_year"] and row["birth_year"] != stored["birth_year"]:
        diffs.append(f"born {row['birth_year']} (stored: {stored['birth_year']})")
    if not diffs:
        return None
    return (
        f"refused: its Me record gives {' and '.join(diffs)} for participant "
        f"{participant_id}: this looks like another person's export. Import it under its "
        "own --participant (or folder), or pass --force if it is the same person"
    )


def _device_key(device: str) -> str:
    """An Apple device without what changes with updates: name and hardware."""
    # values may hold commas (hardware:Watch6,2): a value ends at the next ", key:"
    name = re.search(r"name:(.*?)(?=, \w+:|>|$)", device)
    hw = re.search(r"hardware:(.*?)(?=, \w+:|>|$)", device)
    if name or hw:
        return " ".join(m.group(1).strip() for m in (name, hw) if m)
    return re.sub(r"software:[^,>]*", "", device).strip()


def device_warning(
    con: duckdb.DuckDBPyConnection, participant_id: str, import_id: int
) -> str | None:
    """A warning when the devices of this Apple export share none with the participant's
    earlier Apple exports (both having some)."""
    new = {
        _device_key(d)
        for d in store_ledger.devices(con, participant_id, import_id=import_id, this_import=True)
    }
    old = {
        _device_key(d)
        for d in store_ledger.devices(con, participant_id, import_id=import_id, this_import=False)
    }
    if not new or not old or new & old:
        return None
    return (
        f"its devices ({', '.join(sorted(new)[:3])}) share none with those of "
        f"{participant_id}'s earlier Apple exports ({', '.join(sorted(old)[:3])}): check "
        f"it is the same person (`crampwatch reassign --import {import_id} --participant "
        "ID` moves it)"
    )


# ------------------------------------------------------------------------------ forgetting


@dataclass
class ForgetResult:
    import_ids: list[int] = field(default_factory=list)
    rows_removed: dict[str, int] = field(default_factory=dict)
    participants: list[str] = field(default_factory=list)  # whose outputs were recomputed
    participants_removed: list[str] = field(default_factory=list)
    rows_restored: dict[int, int] = field(default_factory=dict)  # later import -> rows
    #: participant rows put back as they were before the forgotten import(s)
    participants_restored: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    new_import_id: int | None = None


def _live_row(con: duckdb.DuckDBPyConnection, import_id: int) -> dict:
    row = store_ledger.import_row(con, import_id)
    if row is None:
        raise ParticipantError(
            f'no import {import_id} in the ledger (`crampwatch sql "select '
            'import_id, status, participant_id, path from imports"` lists '
            "them)"
        )
    if row["status"] == "forgotten":
        raise ParticipantError(
            f"import {import_id} was already forgotten "
            f"({row['forgotten_by']}, {row['forgotten_utc']:%Y-%m-%d %H:%M}Z)"
        )
    if row["status"] not in store_ledger.LIVE_STATUSES:
        extra = f" ({row['error']})" if row["error"] else ""
        raise ParticipantError(
            f"import {import_id} is {row['status']}{extra}: it wrote no "
            "rows, nothing to forget or move"
        )
    return row


def _data_dir(con: duckdb.DuckDBPyConnection) -> Path | None:
    from pipeline.store_inputs import store_data_dir

    return store_data_dir(con)


def catch_up(con: duckdb.DuckDBPyConnection) -> None:
    """Detect what earlier imports brought first, so that the recomputation after a forget
    (which records every import as reflected) leaves nothing behind."""
    from pipeline.detect import detect_changed
    from pipeline.exposures import update_exposures

    detect_changed(con)
    update_exposures(con)


def recompute(con: duckdb.DuckDBPyConnection, participant_ids: Iterable[str]) -> None:
    """Detection outputs, daily exposures and trigger rows of these participants, from what
    the store now holds (their old outputs are deleted first, in :func:`_forget_rows`)."""
    from pipeline.detect import detect_changed
    from pipeline.exposures import update_exposures
    from pipeline.store_triggers import update_triggers

    pids = sorted(set(participant_ids))
    if not pids:
        return
    detect_changed(con, full=True, participant_ids=pids)
    update_exposures(con, full=True, participant_ids=pids)
    if update_triggers(con).participants == 0:  # someone left: the pooled rows change
        update_triggers(con, force=True)


def _forget_rows(
    con: duckdb.DuckDBPyConnection, row: dict, by: str, res: ForgetResult, also: Iterable[int] = ()
) -> list[str]:
    """Inside a transaction: delete import ``row``'s rows, mark it forgotten, write again
    the rows later imports shared with it, drop participants it created that are left with
    nothing, and the outputs of everyone affected. Returns accelerometry files to delete."""
    iid = row["import_id"]
    affected = store_ledger.import_participants(con, iid)
    if row["participant_id"]:
        affected.add(row["participant_id"])
    files = store_ledger.accelerometry_paths_of_import(con, iid)
    removed = store_ledger.delete_import_rows(con, iid)
    for t, n in removed.items():
        res.rows_removed[t] = res.rows_removed.get(t, 0) + n
    store_ledger.mark_forgotten(con, [iid], by, {iid: sum(removed.values())})
    res.import_ids.append(iid)
    from pipeline.ingest import rewrite_rows

    for later in store_ledger.live_imports_after(con, row, also):
        try:
            n = rewrite_rows(con, later, _data_dir(con))
        except (OSError, ValueError) as exc:
            res.warnings.append(
                f"import {later['import_id']} shared rows with import {iid} "
                f"and could not be read again ({exc}); import it again to "
                "restore them"
            )
            continue
        if n:
            res.rows_restored[later["import_id"]] = n
            affected |= store_ledger.import_participants(con, later["import_id"])
    # the participant rows it created or changed: as the remaining imports leave them
    touched = store_ledger.participants_updated_by(con, iid)
    affected |= set(touched)
    restored = _restore_participant_rows(con, iid)
    for pid in affected:  # first: outputs computed from the import do not keep anyone
        store_ledger.delete_outputs(con, pid)
    gone = store_ledger.orphan_participants(con, sorted(affected))
    store_ledger.delete_participant_rows(con, gone)
    res.participants_removed += gone
    res.participants_restored += [p for p in restored if p not in gone]
    res.participants = sorted(set(res.participants) | (affected - set(gone)))
    # an accelerometry file another import also indexes stays
    return [f for f in files if not store_ledger.accelerometry_path_indexed(con, f)]


def participant_row_without(history: list[dict]) -> tuple[dict | None, int | None]:
    """A participant row as the live imports of its ``history`` (store_ledger.
    participant_history, oldest first) leave it: the row before the first recorded change,
    then each live import's values in import order (non-null values replace stored ones, as
    the import wrote them). Returns ``(values, import_id of the import that created it)``;
    values None when no live import wrote it and it did not exist before the first."""
    cols = store_ledger.PARTICIPANT_COLS
    first = history[0]
    if first["existed"]:
        row: dict | None = {c: first[f"before_{c}"] for c in cols}
        created_by = first["before_import_id"]
    else:
        row, created_by = None, None
    for rec in history:
        if not rec["live"]:
            continue
        if row is None:
            row, created_by = dict.fromkeys(cols), rec["import_id"]
        for c in cols:
            if rec[c] is not None:
                row[c] = rec[c]
    return row, created_by


def _restore_participant_rows(con: duckdb.DuckDBPyConnection, import_id: int) -> list[str]:
    """Inside a transaction, after import ``import_id`` was marked forgotten: put back every
    participant row it created or changed, as the remaining live imports leave it. Returns
    the participants whose row was put back; a row the import created that no live import
    wrote stays for :func:`store_ledger.orphan_participants` to remove (unless other rows
    still refer to it)."""
    restored = []
    for pid in store_ledger.participants_updated_by(con, import_id):
        history = store_ledger.participant_history(con, pid)
        values, created_by = participant_row_without(history)
        if values is None or store_ledger.participant(con, pid) is None:
            continue
        store_ledger.write_participant(con, pid, values, created_by)
        restored.append(pid)
    return restored


def _delete_files(con: duckdb.DuckDBPyConnection, rel_paths: Iterable[str]) -> None:
    root = _data_dir(con)
    if root is None:
        return
    for rel in rel_paths:
        (root / rel).unlink(missing_ok=True)


def forget_import(con: duckdb.DuckDBPyConnection, import_id: int) -> ForgetResult:
    """Remove exactly what import ``import_id`` wrote and recompute what depended on it.

    Rows it shared with later imports (an overlapping export) are written again from those
    imports' files. Its ledger row stays, status ``forgotten``: the same file imports again.
    """
    row = _live_row(con, import_id)
    catch_up(con)
    res = ForgetResult()
    with transaction(con):
        files = _forget_rows(con, row, f"forget --import {import_id}", res)
    _delete_files(con, files)
    recompute(con, res.participants)
    return res


def forget_participant(con: duckdb.DuckDBPyConnection, participant_id: str) -> ForgetResult:
    """Remove every row of the participant from every table (their raw accelerometry files
    too); the ledger rows of their imports stay, status ``forgotten``."""
    from pipeline import store_labels as labels

    if participant_id not in store_ledger.participant_ids(con):
        like = resembling(participant_id, store_ledger.participant_ids(con))
        hint = f"; did you mean {like[0]}?" if like else " (`crampwatch participants` lists them)"
        raise ParticipantError(f"no participant {participant_id!r} in the store{hint}")
    labels.merge_pending(con)  # a queued label must not bring them back
    res = ForgetResult(participants_removed=[participant_id])
    imports = store_ledger.participant_imports(con, participant_id)
    with transaction(con):
        res.rows_removed = store_ledger.delete_participant(con, participant_id)
        store_ledger.delete_outputs(con, participant_id)  # and the rows over everyone
        store_ledger.mark_forgotten(con, imports, f"forget --participant {participant_id}")
        res.import_ids = imports
    root = _data_dir(con)
    if root is not None:
        shutil.rmtree(
            root / "accelerometry" / f"participant_id={participant_id}", ignore_errors=True
        )
    from pipeline.store_triggers import update_triggers

    update_triggers(con, force=True)  # the pooled rows no longer hold them
    return res


def reassign(
    con: duckdb.DuckDBPyConnection,
    import_id: int,
    participant_id: str,
    tz: str | None = None,
    *,
    force: bool = False,
    new_participant: bool = False,
) -> ForgetResult:
    """Move import ``import_id``'s rows to ``participant_id`` (with ``tz``, the local times
    the import derived from a zone are computed again): the file is imported again from its
    recorded path for that participant and zone, then the old import is forgotten. Nothing
    changes when the file is gone or changed, or the new import fails."""
    from pipeline.ingest import import_file, sha256_file

    row = _live_row(con, import_id)
    path = Path(row["abs_path"] or row["path"])
    if not path.is_file():
        raise ParticipantError(
            f"the file of import {import_id} is gone ({path}); reassign re-reads it. Put it "
            f"back, or `crampwatch forget --import {import_id}` and import a copy with "
            "--participant"
        )
    if sha256_file(path) != row["sha256"]:
        raise ParticipantError(
            f"{path} has changed since import {import_id}; reassign needs the same file"
        )
    if participant_id == row["participant_id"] and (tz is None or tz == row["tz"]):
        raise ParticipantError(
            f"import {import_id} already belongs to {participant_id}"
            + (f" with zone {tz}" if tz else "")
        )
    check_new_id(con, participant_id, new_participant)
    catch_up(con)
    new = import_file(
        con,
        path,
        participant_id=participant_id,
        tz=tz,
        data_dir=_data_dir(con),
        force=force,
        new_participant=True,
        replaces_import_id=import_id,
    )
    if new.status not in store_ledger.LIVE_STATUSES:
        raise ParticipantError(
            f"nothing changed: importing {path} for {participant_id} {new.status}: {new.error}"
        )
    what = f"--participant {participant_id}" + (f" --timezone {tz}" if tz else "")
    res = ForgetResult(new_import_id=new.import_id)
    with transaction(con):
        files = _forget_rows(
            con, row, f"reassign {what} (now import {new.import_id})", res, also=[new.import_id]
        )
        res.participants = sorted(
            set(res.participants) | store_ledger.import_participants(con, new.import_id)
        )
        for pid in res.participants:
            store_ledger.delete_outputs(con, pid)
    _delete_files(con, files)
    recompute(con, res.participants)
    return res


def overview(con: duckdb.DuckDBPyConnection) -> list[dict]:
    return store_ledger.overview(con)
