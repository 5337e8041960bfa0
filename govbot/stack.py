"""`govbot serve`: trains if needed, then runs the Rasa server and the app as supervised processes."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import httpx

from govbot import rasa_project
from core.settings import Settings


@dataclass
class Process:
    name: str
    port: int
    log: Path
    proc: subprocess.Popen

    def failure(self, what: str) -> str:
        tail = "".join(self.log.read_text(errors="replace").splitlines(True)[-20:]) if self.log.exists() else ""
        return (f"{self.name} {what} (port {self.port}). See {self.log}; last lines:\n{tail}\n"
                f"If the port is taken, stop the other program or set "
                f"{'RASA_PORT' if self.name == 'Rasa' else 'GOVBOT_PORT'} to a free port.")


def _port_free(port: int) -> bool:
    import socket

    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


IN_MEMORY_LOCKS = "lock_store:\n  type: in_memory\n"
REDIS_LOCKS = ("lock_store:\n  type: redis\n  url: ${GOVBOT_REDIS_HOST}\n  port: ${GOVBOT_REDIS_PORT}\n"
               "  db: ${GOVBOT_REDIS_DB}\n  password: ${GOVBOT_REDIS_PASSWORD}\n  key_prefix: govbot\n")


def endpoints_file(settings: Settings) -> Path:
    """var/endpoints.yml: the repo's endpoints.yml with the action webhook on the app's actual port, and
    Rasa's locks in Redis when REDIS_URL is set (several Rasa servers then share conversations)."""
    text = (settings.root / "endpoints.yml").read_text()
    text = text.replace("127.0.0.1:8000/", f"127.0.0.1:{settings.port}/")
    if settings.redis_url:
        if IN_MEMORY_LOCKS not in text:
            raise SystemExit("endpoints.yml: expected an in-memory `lock_store` block to replace with Redis")
        text = text.replace(IN_MEMORY_LOCKS, REDIS_LOCKS)
    target = settings.var_dir / "endpoints.yml"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    return target


def rasa_env(settings: Settings) -> dict[str, str]:
    """The variables endpoints.yml refers to: the action token, the tracker store and the Redis lock store.
    Rasa's SQLAlchemy 1.4 speaks PostgreSQL through psycopg2, the app through psycopg 3."""
    env = {"GOVBOT_ACTION_TOKEN": settings.action_token,
           "GOVBOT_TRACKER_URL": re.sub(r"^postgres(ql)?(\+\w+)?://", "postgresql://", settings.tracker_url)}
    if settings.redis_url:
        redis = urlsplit(settings.redis_url)
        env |= {"GOVBOT_REDIS_HOST": redis.hostname or "127.0.0.1", "GOVBOT_REDIS_PORT": str(redis.port or 6379),
                "GOVBOT_REDIS_DB": redis.path.strip("/") or "0",
                "GOVBOT_REDIS_PASSWORD": unquote(redis.password or "")}
    return env


def _commands(settings: Settings, model: Path) -> dict[str, tuple[int, list[str]]]:
    rasa_cmd = [str(rasa_project.rasa_bin(settings)), "run", "--enable-api", "--auth-token", settings.rasa_token,
                "-i", "127.0.0.1", "-p", str(settings.rasa_port), "--model", str(model),
                "--endpoints", str(endpoints_file(settings))]
    app_cmd = [sys.executable, "-m", "uvicorn", "govbot.app:create_app", "--factory",
               "--host", settings.host, "--port", str(settings.port), "--log-level", "warning"]
    return {"Rasa": (settings.rasa_port, rasa_cmd), "the app": (settings.port, app_cmd)}


def _launch(settings: Settings, name: str, port: int, cmd: list[str]) -> Process:
    env = {**os.environ, "GOVBOT_PORT": str(settings.port), "RASA_PORT": str(settings.rasa_port),
           "GOVBOT_VAR_DIR": str(settings.var_dir), "DATABASE_URL": settings.database_url,
           "REDIS_URL": settings.redis_url, "GOVBOT_HANDOFF_CONFIG": str(settings.handoff_config),
           "GOVBOT_EMBEDDING_MODEL": str(settings.embedding_model), "RASA_TOKEN": settings.rasa_token,
           **rasa_env(settings), "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONUNBUFFERED": "1"}
    log = settings.var_dir / "logs" / ("rasa.log" if name == "Rasa" else "app.log")
    log.parent.mkdir(parents=True, exist_ok=True)
    out = log.open("a")
    proc = subprocess.Popen(cmd, cwd=settings.root, env=env, stdout=out, stderr=subprocess.STDOUT,
                            start_new_session=True)
    return Process(name, port, log, proc)


def start_processes(settings: Settings, model: Path) -> list[Process]:
    commands = _commands(settings, model)
    for name, (port, _) in commands.items():
        if not _port_free(port):
            raise SystemExit(f"port {port} for {name} is already in use: stop what runs there, or choose another "
                             f"port with {'GOVBOT_PORT' if name == 'the app' else 'RASA_PORT'}=…")
    for name in commands:  # each run's logs start empty; restarts append
        (settings.var_dir / "logs" / ("rasa.log" if name == "Rasa" else "app.log")).unlink(missing_ok=True)
    return [_launch(settings, name, port, cmd) for name, (port, cmd) in commands.items()]


def wait_ready(settings: Settings, procs: list[Process], timeout: float = 240) -> None:
    t0 = time.time()
    checks = {"the app": f"http://127.0.0.1:{settings.port}/healthz",
              "Rasa": f"{settings.rasa_url}/status?token={settings.rasa_token}"}
    pending = {p.name for p in procs}
    while pending:
        for p in procs:
            if p.proc.poll() is not None:
                raise RuntimeError(p.failure(f"exited with code {p.proc.returncode}"))
        for name in list(pending):
            try:
                resp = httpx.get(checks[name], timeout=2)
                if resp.status_code == 200 and (name != "Rasa" or resp.json().get("model_file")):
                    pending.discard(name)
                    print(f"  {name} is up ({time.time() - t0:.0f} s)", flush=True)
            except httpx.HTTPError:
                pass
        if time.time() - t0 > timeout:
            slow = next(p for p in procs if p.name in pending)
            raise RuntimeError(slow.failure(f"did not come up within {timeout:.0f} s"))
        time.sleep(1)


def stop(procs: list[Process]) -> None:
    for p in procs:
        if p.proc.poll() is None:
            os.killpg(p.proc.pid, signal.SIGTERM)
    deadline = time.time() + 15
    for p in procs:
        try:
            p.proc.wait(max(0.1, deadline - time.time()))
        except subprocess.TimeoutExpired:
            os.killpg(p.proc.pid, signal.SIGKILL)


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


RESTARTS_PER_10_MIN = 5


def supervise(settings: Settings, model: Path, procs: list[Process]) -> None:
    """Runs until interrupted: a process that stops is started again (the app answers from the knowledge base
    while Rasa is away, and returns to full service by itself once Rasa is back); one that keeps failing
    (more than RESTARTS_PER_10_MIN restarts in ten minutes) stops everything with its log's last lines."""
    restarts: list[float] = []
    commands = _commands(settings, model)
    while True:
        time.sleep(1)
        for i, p in enumerate(procs):
            if p.proc.poll() is None:
                continue
            restarts = [t for t in restarts if t > time.time() - 600] + [time.time()]
            if len(restarts) > RESTARTS_PER_10_MIN:
                raise RuntimeError(p.failure(f"keeps stopping (exit {p.proc.returncode}, "
                                             f"{len(restarts)} restarts in ten minutes)"))
            print(f"{p.name} stopped (exit {p.proc.returncode}); starting it again …", flush=True)
            procs[i] = _launch(settings, p.name, *commands[p.name])


def serve(settings: Settings, epochs_scale: float = 1.0) -> None:
    """Ctrl-C (SIGINT) or SIGTERM (systemd, `kill`) stop both processes cleanly."""
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
    model = rasa_project.train(settings, epochs_scale=epochs_scale)
    print("starting Rasa and the app …", flush=True)
    procs = start_processes(settings, model)
    try:
        wait_ready(settings, procs)
        print(f"\n政务通 is running.\n  web chat:  http://{settings.host}:{settings.port}/\n"
              f"  editor:    http://{settings.host}:{settings.port}/editor  (get a token: "
              f".venv/bin/govbot users add NAME --role editor|reviewer|admin)\n"
              f"  API docs:  http://{settings.host}:{settings.port}/docs\n"
              f"  logs:      {settings.var_dir / 'logs'}\nPress Ctrl-C to stop.", flush=True)
        supervise(settings, model, procs)
    except KeyboardInterrupt:
        print("\nstopping …", flush=True)
    except RuntimeError as exc:
        print(f"\nerror: {exc}", file=sys.stderr, flush=True)
        stop(procs)
        raise SystemExit(1) from None
    stop(procs)
    print("stopped.")
