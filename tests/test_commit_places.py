"""Where a transaction ends: services only flush; the request or the command commits, through
one helper per layer (web/actions.run_action, api/transactions.commits, cli._run). A commit
written anywhere else must say why on its own line (the intended exceptions: the tus PATCH,
the sign-in throttle, an audit event kept before a download streams)."""
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "inspection"
COMMIT = re.compile(r"\bsession\.commit\(|\bdb\.session\.commit\b")
HELPERS = {"web/actions.py", "api/transactions.py"}


def commits_in(path: Path) -> list[tuple[int, str]]:
    return [(number, line) for number, line in enumerate(path.read_text("utf-8").splitlines(), 1)
            if COMMIT.search(line)]


def test_no_service_commits():
    found = {f"{path.relative_to(PACKAGE)}:{number}": line.strip()
             for path in sorted((PACKAGE / "services").rglob("*.py"))
             for number, line in commits_in(path)}
    assert found == {}


def test_views_and_commands_commit_through_their_helper_or_say_why():
    unexplained = {}
    for path in [*sorted((PACKAGE / "web").rglob("*.py")),
                 *sorted((PACKAGE / "api").rglob("*.py"))]:
        if str(path.relative_to(PACKAGE)) in HELPERS:
            continue
        for number, line in commits_in(path):
            if "#" not in line:
                unexplained[f"{path.relative_to(PACKAGE)}:{number}"] = line.strip()
    cli = PACKAGE / "cli.py"
    cli_commits = commits_in(cli)
    assert len(cli_commits) == 1, cli_commits  # in _run, and nowhere else
    assert unexplained == {}


def test_the_checks_see_a_commit():
    """The patterns above match the ways a commit is written (so the tests can fail)."""
    assert COMMIT.search("        db.session.commit()")
    assert COMMIT.search("    session.commit()")
    assert not COMMIT.search("    out.conn.commit()  # the export's own SQLite file")
