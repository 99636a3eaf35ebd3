"""The happy path on a real server started with `triage serve`: ingest the Grid sample,
create a ticket, find it in the queue, approve an edit, see it sent and audited."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.api.conftest import AUTH_QUESTION, PYTHON, Server, base_env, run_cli, wait_for
from tests.conftest import REPO_ROOT, free_port

pytestmark = pytest.mark.slow

# The lead wires these commands into app.cli; this runs exactly those register functions.
CLI = (
    "import typer\n"
    "from app.cli.serve import register as s; from app.cli.tokens import register as t\n"
    "app = typer.Typer(); s(app); t(app)\n"
    "app()\n"
)


class ServeCommand(Server):
    """`triage serve --host --port` instead of bare uvicorn."""

    def start(self, timeout: float = 120.0) -> Server:
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [PYTHON, "-c", CLI, "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                env=self.env, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        try:
            wait_for(self._healthy, timeout=timeout, step=0.2)
        except AssertionError:
            self.kill()
            raise AssertionError(f"server did not start: {self.log_tail()}") from None
        return self

    def _healthy(self) -> bool:
        assert self.proc is not None
        assert self.proc.poll() is None, self.log_tail()
        try:
            return httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False


def test_happy_path_on_a_real_server(
    tmp_path: Path, grid_sample: Path, models_dir: Path, servers: list[Server], pipeline: object
) -> None:
    env = base_env(
        models_dir,
        TRIAGE_DATA_DIR=str(tmp_path / "data"),
        TRIAGE_WORKER_POLL_SECONDS="0.2",
        TRIAGE_PORT=str(free_port()),
    )
    # `triage tokens create` (light: no models) runs while `triage ingest` embeds.
    issue = subprocess.Popen(
        [PYTHON, "-c", CLI, "tokens", "create", "--role", "admin", "--name", "root", "--json"],
        env=env, cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    report = json.loads(run_cli(["ingest", str(grid_sample), "--json"], env))
    assert report["docs_added"] >= 4
    assert report["docs_failed"] == 0
    out, _ = issue.communicate(timeout=120)
    assert issue.returncode == 0
    admin = {"Authorization": f"Bearer {json.loads(out)['token']}"}

    server = ServeCommand(env, tmp_path / "serve.log")
    servers.append(server)
    server.start()
    with httpx.Client(base_url=server.url, timeout=60) as client:
        tokens = {}
        for role in ("integration", "agent"):
            issued = client.post(
                "/v1/tokens", json={"role": role, "name": f"{role}-e2e"}, headers=admin
            )
            assert issued.status_code == 201, issued.text
            tokens[role] = {"Authorization": f"Bearer {issued.json()['token']}"}
        created = client.post(
            "/v1/tickets",
            json={"message": AUTH_QUESTION, "reporter": "dev@acme.test"},
            headers=tokens["integration"],
        )
        assert created.status_code == 201, created.text
        ticket = created.json()
        assert ticket["status"] == "pending_review"
        assert ticket["triage"]["category"] == "auth_api_access"
        draft = ticket["draft"]
        assert any(
            c["doc_id"] == "docs/guides/api-reference/authentication" for c in draft["citations"]
        )

        queue = client.get("/v1/review/queue", headers=tokens["agent"]).json()
        assert [t["id"] for t in queue["items"]] == [ticket["id"]]

        edited = draft["text"] + "\n\nPS: sandbox and production use different secrets."
        approved = client.post(
            f"/v1/drafts/{draft['id']}/approve",
            json={"text": edited, "expected_version": draft["version"]},
            headers={**tokens["agent"], "Idempotency-Key": "e2e-approve"},
        )
        assert approved.status_code == 200, approved.text
        assert approved.json()["status"] == "approved"

        def status() -> str:
            return str(
                client.get(f"/v1/tickets/{ticket['id']}", headers=tokens["agent"]).json()["status"]
            )

        wait_for(lambda: status() == "sent", timeout=30)
        detail = client.get(f"/v1/tickets/{ticket['id']}", headers=tokens["agent"]).json()
        assert detail["draft"]["final_text"] == edited
        assert detail["review"][0]["action"] == "edit"
        assert detail["review"][0]["reviewer"].endswith(":agent-e2e")  # token id:name
        audit = client.get(f"/v1/tickets/{ticket['id']}/audit", headers=tokens["agent"]).json()
        assert [(a["action"], a["to_status"]) for a in audit] == [
            ("ticket_created", "drafting"),
            ("draft_added", "pending_review"),
            ("draft_approved", "approved"),
            ("reply_sent", "sent"),
        ]
        assert client.get("/v1/review/queue", headers=tokens["agent"]).json()["items"] == []
    log = server.log_tail()
    assert '"logger": "triage.access"' in log
    assert "Every call to the Grid API" not in log
